"""The CLI as a real process: names that are not UTF-8 on a strict terminal, library chatter kept in the log,
full disks and size limits turned into messages with the files already there left whole."""
from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from pydicom.data import get_testdata_file

from tests.support.cli import run_cli
from tests.support.paths import shared_path
from tests.core.fuzz_cases_volumes import _edit_series
from tests.core.fuzz_corpus import ct_nifti, png

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)

NOT_UTF8 = os.fsdecode(b"caf\xe9")


def noise_ct(root: Path, slices: int = 6) -> Path:
    """A CT whose PNG slices are large (noise does not compress): about 65 KB each."""
    hu = np.random.default_rng(0).integers(-1000, 2000, (256, 256, slices)).astype(np.int16)
    return ct_nifti(root, "noise.nii.gz", hu)


def test_a_name_that_is_not_utf8_prints_on_a_strict_terminal(tmp_path):
    folder = tmp_path / f"images-{NOT_UTF8}"
    for index in range(2):
        png(folder / f"{index:04d}.png", np.full((8, 8), 40 * index, np.uint8))
    done = run_cli(tmp_path, "convert", folder, "--out", tmp_path / "out", env={"PYTHONIOENCODING": "utf-8:strict"})
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"images-caf\\xe9" in done.stdout and b"Traceback" not in done.stderr


def test_library_messages_stay_in_the_log_and_one_file_opens_quietly(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("CT_small.dcm", "SC_rgb_jpeg.dcm"):  # the second makes pydicom warn while it is scanned
        shutil.copy(get_testdata_file(name), folder / name)
    done = run_cli(tmp_path, "convert", folder / "CT_small.dcm", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stderr == b"", done.stderr.decode(errors="replace")  # no pydicom, no "skipped" warning
    log = (tmp_path / "home" / "logs" / "mandible-studio.log").read_text(encoding="utf-8")
    assert "Expected explicit VR, but found implicit VR" in log


def _whole_pngs(folder: Path) -> None:
    for path in folder.glob("*.png"):
        with PIL.Image.open(path) as image:
            image.load()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "a temporary was left behind"


@pytest.mark.parametrize("limit", [1000, 20_000], ids=["before the work", "during the work"])
def test_file_size_limit_is_a_message_and_earlier_files_stay_whole(tmp_path, limit):
    """RLIMIT_FSIZE makes the kernel refuse writes (EFBIG) the way a full disk does (ENOSPC)."""
    source = noise_ct(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    before = png(out / "0005.png", np.full((16, 16), 7, np.uint8)).read_bytes()
    done = run_cli(tmp_path, "convert", source, "--out", out,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2 and "Traceback" not in stderr, stderr
    assert stderr.splitlines()[-1].startswith("error: cannot write --out") and "larger than" in stderr, stderr
    assert (out / "notes.txt").read_text() == "the user's own file" and (out / "0005.png").read_bytes() == before
    _whole_pngs(out)


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB file system (tmpfs), where the test may mount one (root on Linux); else skip."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs (root); the RLIMIT_FSIZE test covers the rest")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_a_message_and_earlier_files_stay_whole(tmp_path, small_disk):
    out = small_disk / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    done = run_cli(tmp_path, "convert", noise_ct(tmp_path), "--out", out)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2 and "Traceback" not in stderr, stderr
    assert "No space left on device; the disk is full" in stderr.splitlines()[-1], stderr
    assert (out / "notes.txt").read_text() == "the user's own file"
    _whole_pngs(out)
    with open(small_disk / "filler", "wb", buffering=0) as fp, contextlib.suppress(OSError):
        while True:  # now the disk is full from the start: said before any work
            fp.write(b"\0" * 4096)
    done = run_cli(tmp_path, "convert", noise_ct(tmp_path), "--out", out)
    assert done.returncode == 2 and b"disk is full" in done.stderr and b"Traceback" not in done.stderr


@pytest.mark.shared
@pytest.mark.slow
def test_predict_on_a_2000_mm_pixel_spacing_stays_within_memory(tmp_path):
    """Before, predict resampled 128 px of 2 m to the model's 4 mm per pixel: a 16 GB image."""
    model = shared_path("models", "okbp128_gpu36.msmodel")
    series = _edit_series(tmp_path, lambda ds: setattr(ds, "PixelSpacing", [2000, 2000]))
    cap = 8 * 1024**3
    done = run_cli(tmp_path, "predict", series, "--model", model, "--out", tmp_path / "out", "--device", "cpu",
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)), timeout=600)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 0, stderr
    assert "PixelSpacing 2000 x 2000 mm is impossible" in stderr
    assert len(list((tmp_path / "out").glob("*.json"))) == 3
