"""Model-file fuzz cases: every edited, truncated, crafted or foreign file ends as ModelFileError in the core and as
`error: ...` with exit 2 in the CLI, and the huge-network case is refused before anything is allocated.

The files are generated at test time from one tiny int8 model. `craft` rewrites a file's metadata and, like an
attacker who knows the format, can recompute the checksum: then the config bounds alone must refuse it.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

import main
from core.errors import ModelFileError
from core.model.model_file import load_model, save_model
from core.model.unet import MandibleUNet
from tests.support.paths import ROOT
from tests.support.models import TINY


def _tiny_int8(path):
    torch.manual_seed(0)
    save_model(path, MandibleUNet(TINY).eval(),
               {"validation": {"dice": 0.8}}, storage="int8")
    return path


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return _tiny_int8(tmp_path_factory.mktemp("fuzz") / "good.msmodel")


DTYPES = {"F32": "torch.float32", "F16": "torch.float16", "I8": "torch.int8", "I64": "torch.int64"}


def _split(data: bytes) -> tuple[dict, bytes]:
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), data[8 + size:]


def format_digest(document: dict, header: dict, body: bytes) -> str:
    """The format-2 checksum as docs/decisions/110 specifies it, computed from the raw file independently of core."""
    digest = hashlib.sha256(b"mandible-studio-model|2|")
    digest.update(json.dumps({k: v for k, v in document.items() if k != "sha256"}, sort_keys=True,
                             separators=(",", ":")).encode())
    for name in sorted(k for k in header if k != "__metadata__"):
        entry = header[name]
        start, end = entry["data_offsets"]
        digest.update(f"{name}|{DTYPES[entry['dtype']]}|{tuple(entry['shape'])}|".encode())
        digest.update(body[start:end])
    return digest.hexdigest()


def craft(source, dest, edit=None, resign=False, version="2"):
    """Copy a model file with its metadata document edited; `resign` recomputes the checksum."""
    header, body = _split(source.read_bytes())
    metadata = header["__metadata__"]
    document = json.loads(metadata["mandible_studio"])
    if edit is not None:
        edit(document)
    if resign:
        document["sha256"] = format_digest(document, header, body)
    metadata.update(format_version=version, mandible_studio=json.dumps(document))
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    dest.write_bytes(len(encoded).to_bytes(8, "little") + encoded + body)
    return dest


def _set_window_width(doc):
    doc["config"]["windows"][0][2] = 0.0


def _set_std(doc):
    doc["config"]["std"][1] = 0.0


def _set_huge_decoder(doc):
    doc["config"]["decoder_channels"] = [100_000, 128, 64, 32]


def _set_mm_per_pixel(doc):
    doc["config"]["mm_per_pixel"] = 4.0  # a plausible value: only the checksum can tell


def _set_metric(doc):
    doc["info"]["validation"]["dice"] = 0.99


def _set_storage(doc):
    doc["storage"] = "fp32"


EDITS = {  # name: (edit, expected message when not re-signed, when re-signed)
    "window width 0": (_set_window_width, "window 'bone'", "window 'bone'"),
    "std 0": (_set_std, "std must be above 0", "std must be above 0"),
    "huge decoder channels": (_set_huge_decoder, "decoder channels", "decoder channels"),
    "plausible mm per pixel": (_set_mm_per_pixel, "modified", None),
    "metric edited": (_set_metric, "modified", None),
    "storage edited": (_set_storage, "modified", None),
}


@pytest.mark.parametrize("name", EDITS)
def test_edited_metadata_is_refused(good, tmp_path, name):
    edit, plain_message, resigned_message = EDITS[name]
    with pytest.raises(ModelFileError, match=plain_message):
        load_model(craft(good, tmp_path / "edited.msmodel", edit))
    resigned = craft(good, tmp_path / "resigned.msmodel", edit, resign=True)
    if resigned_message is None:  # a sane value with a recomputed checksum is a legitimate file
        load_model(resigned)
    else:
        with pytest.raises(ModelFileError, match=resigned_message):
            load_model(resigned)


def test_a_flipped_int8_weight_or_scale_byte_is_refused(good, tmp_path):
    data = good.read_bytes()
    for offset in (len(data) - 5000, len(data) - 3):  # inside the weights; the last bytes
        broken = bytearray(data)
        broken[offset] ^= 0x10
        path = tmp_path / f"flipped-{offset}.msmodel"
        path.write_bytes(bytes(broken))
        with pytest.raises(ModelFileError, match="modified"):
            load_model(path)


def test_the_format_tag_and_version_are_checked(good, tmp_path):
    for version in ("3", "0", ""):
        with pytest.raises(ModelFileError, match="format version"):
            load_model(craft(good, tmp_path / f"v{version}.msmodel", version=version))
    as_version_1 = craft(good, tmp_path / "claims-v1.msmodel", version="1")  # no weights-only checksum in it
    with pytest.raises(ModelFileError, match="modified"):
        load_model(as_version_1)


def test_truncated_files_are_refused(good, tmp_path):
    data = good.read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    for length in (0, 5, 8, 100, header - 1, header + 10, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut-{length}.msmodel"
        path.write_bytes(data[:length])
        with pytest.raises(ModelFileError):
            load_model(path)


class _Trap:
    """Unpickling this object creates `marker`: proof that a file was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_renamed_msmodel_is_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    zipped, plain = tmp_path / "zipped.msmodel", tmp_path / "plain.msmodel"
    torch.save({"weights": torch.zeros(3), "trap": _Trap(marker)}, zipped)
    plain.write_bytes(pickle.dumps({"trap": _Trap(marker)}))
    for path in (zipped, plain):
        with pytest.raises(ModelFileError, match="not a Mandible Studio model"):
            load_model(path)
    assert not marker.exists()


def test_the_cli_answers_every_bad_model_with_an_error_and_exit_2(good, tmp_path, capsys):
    truncated = tmp_path / "truncated.msmodel"
    truncated.write_bytes(good.read_bytes()[:1000])
    renamed = tmp_path / "pickle.msmodel"
    torch.save({"w": torch.zeros(2)}, renamed)
    for path in (craft(good, tmp_path / "width0.msmodel", _set_window_width),
                 craft(good, tmp_path / "metric.msmodel", _set_metric), truncated, renamed,
                 craft(good, tmp_path / "v9.msmodel", version="9")):
        out = tmp_path / f"out-{path.stem}"
        assert main.main(["predict", str(ROOT / "resources" / "samples" / "okbp_pt_224"), "--model", str(path),
                          "--out", str(out)]) == 2, path
        stderr = capsys.readouterr().err
        assert stderr.startswith("error: ") and "Traceback" not in stderr, stderr
        assert not out.exists()


CAPPED_LOAD = textwrap.dedent("""
    import dataclasses, resource, sys
    sys.path.insert(0, sys.argv[2])
    from core.errors import ModelFileError
    from core.model.config import ModelConfig
    from core.model.model_file import load_model
    from core.model.unet import MandibleUNet

    def vm_bytes():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))

    cap = vm_bytes() + (1 << 30)  # 1 GiB above what is mapped now
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # Control: the network that file declares cannot be built under this cap.
    huge = ModelConfig(input_size=64, mm_per_pixel=8.0)
    object.__setattr__(huge, "decoder_channels", (100_000, 128, 64, 32))
    try:
        MandibleUNet(huge)
        print("CONTROL BUILT")
    except (MemoryError, RuntimeError):
        print("control refused by the cap")
    try:
        load_model(sys.argv[1])
        print("LOADED")
    except ModelFileError as exc:
        print("refused:", exc)
""")


@pytest.mark.process
@pytest.mark.slow
def test_huge_decoder_channels_are_refused_before_allocation(good, tmp_path):
    crafted = craft(good, tmp_path / "huge.msmodel", _set_huge_decoder, resign=True)
    done = subprocess.run([sys.executable, "-c", CAPPED_LOAD, str(crafted), str(ROOT)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "control refused by the cap", done.stdout
    assert lines[1].startswith("refused:") and "decoder channels" in lines[1], done.stdout
