"""kill -9 in the middle of saves leaves every Labelme JSON, PNG and autosave .npz whole (must keep
holding, issue 10), and the temporaries such a kill leaves behind are removed when the workspace opens."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from core.io.atomic import TEMP_PREFIX
from core.io.labelme import read_label_file
from core.workspace import Workspace
from core.workspace.autosave import read_autosave
from tests.core.fuzz_corpus import ct_nifti

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)
ROOT = Path(__file__).resolve().parents[2]
KILLS = 4
SHAPE = (256, 256)

# The child saves slices as fast as it can: Labelme JSON + PNG (export_slice) and an autosave snapshot.
SAVER = """
import sys
from pathlib import Path
import numpy as np
from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.io.loader import load_volume
from core.io.slice_export import export_slice
from core.windowing import WINDOW_PRESETS
from core.workspace.autosave import write_autosave

case, ct, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
volume = load_volume(ct)
rng = np.random.default_rng(seed)
print("ready", flush=True)
while True:
    index = int(rng.integers(0, volume.num_slices))
    mask = np.zeros(volume.shape[1:], bool)
    r, c = rng.integers(0, 200, 2)
    mask[r:r + 50, c:c + 50] = True
    export_slice(case / "annotations", index, volume, mask, WINDOW_PRESETS["bone"])
    annotation = SliceAnnotation(*volume.shape[1:])
    annotation.set_predicted(mask)
    write_autosave(case / "autosave" / f"{index:04d}.npz", annotation, SliceStatus.EDITED)
"""


def _check_whole(case: Path) -> int:
    """Every saved file reads back; returns how many there are."""
    files = [p for p in case.rglob("*") if p.is_file() and not p.name.startswith(".")]
    for path in files:
        if path.suffix == ".json":
            read_label_file(path)
        elif path.suffix == ".png":
            with PIL.Image.open(path) as image:
                image.load()
        elif path.suffix == ".npz":
            assert read_autosave(path, SHAPE) is not None, path
    return len(files)


def test_kill_9_during_saves_leaves_every_file_whole_and_the_next_start_cleans_up(tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    case = workspace.cases_dir / "case-1"
    (case / "autosave").mkdir(parents=True)
    ct = ct_nifti(tmp_path, "ct.nii.gz", np.random.default_rng(1).integers(-1000, 2000, (*SHAPE, 6), np.int16))
    rng = np.random.default_rng(7)
    for kill in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(case), str(ct), str(kill)], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.2, 0.8)))
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
        _check_whole(case)
    saved = _check_whole(case)
    assert saved >= 6, "the child never got to save: the test proved nothing"

    leftovers = [p for p in case.rglob(f"{TEMP_PREFIX}*")]
    hour_ago = time.time() - 3600
    for path in leftovers:
        os.utime(path, (hour_ago, hour_ago))
    (case / "annotations" / ".user-notes").write_text("not ours")  # another program's hidden file stays
    Workspace.open(tmp_path / "ws")
    assert not list(case.rglob(f"{TEMP_PREFIX}*")) and (case / "annotations" / ".user-notes").exists()
    assert _check_whole(case) == saved


def test_only_stale_temporaries_of_our_own_naming_are_removed(tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    folder = workspace.cases_dir / "case-1" / "annotations"
    folder.mkdir(parents=True)
    stale = [folder / f"{TEMP_PREFIX}0042.k3j2h1x9.json", folder / ".0043.ab_d12x9.png",  # today's and older names
             workspace.cases_dir / "case-1" / f"{TEMP_PREFIX}case.q1w2e3r4.json"]
    fresh = folder / f"{TEMP_PREFIX}0044.z9y8x7w6.json"  # a save in progress in another window
    kept = [folder / "0042.json", folder / ".hidden-notes", folder / ".0045.json"]
    hour_ago = time.time() - 3600
    for path in stale + kept + [fresh]:
        path.write_text("x")
        if path is not fresh:
            os.utime(path, (hour_ago, hour_ago))
    Workspace.open(tmp_path / "ws")
    assert [p.exists() for p in stale] == [False] * 3
    assert fresh.exists() and all(p.exists() for p in kept)
