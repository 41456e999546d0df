"""Fuzz cases of folders, names, outputs, JSON and model files (see tests/core/fuzz_corpus.py)."""
from __future__ import annotations

import json
import os
import pickle
import socket
from pathlib import Path

import numpy as np

from core.io.loader import load_volume
from core.io.slice_export import export_slice, slice_stem
from core.windowing import WINDOW_PRESETS
from core.workspace import Workspace
from tests.core.fuzz_corpus import (FuzzInput, cli, cli_succeeded, ct_nifti, fuzz_case, labels_nifti, load,
                                    loaded, png, refused, sample_series, training_case, values_summary,
                                    workspace_cases)

NOT_UTF8 = os.fsdecode(b"caf\xe9")  # Latin-1 "café": not valid UTF-8, a str with a surrogate escape


def _same_as_without(folder: Path, add_intruder) -> FuzzInput:
    """`folder` loads exactly as before once `add_intruder(folder)` puts something unreadable in it."""
    reference = values_summary(load_volume(folder).hu)
    add_intruder(folder)
    return FuzzInput(load(folder), loaded(**reference))


# -- hangs: nothing that is not a regular file is ever opened ------------------------------------------
@fuzz_case("hang")
def fifo_in_a_dicom_folder(root: Path) -> FuzzInput:
    return _same_as_without(sample_series(root), lambda folder: os.mkfifo(folder / "IM99999.dcm"))


@fuzz_case("hang")
def socket_in_a_dicom_folder(root: Path) -> FuzzInput:
    def add_socket(folder: Path) -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(folder / "s.dcm"))  # left bound: the file stays a socket
        server.close()
    return _same_as_without(sample_series(root), add_socket)


@fuzz_case("hang")
def link_to_a_device_in_a_dicom_folder(root: Path) -> FuzzInput:
    return _same_as_without(sample_series(root), lambda folder: (folder / "zero.dcm").symlink_to("/dev/zero"))


@fuzz_case("hang")
def fifo_in_an_image_folder(root: Path) -> FuzzInput:
    for index in range(2):
        png(root / "images" / f"{index:04d}.png", np.full((8, 8), index * 100, np.uint8))
    return _same_as_without(root / "images", lambda folder: os.mkfifo(folder / "0002.png"))


@fuzz_case("hang")
def fifo_given_as_the_input(root: Path) -> FuzzInput:
    os.mkfifo(root / "scan.nii.gz")
    return FuzzInput(cli("convert", root / "scan.nii.gz", "--out", root / "out"), refused("not a regular file"))


@fuzz_case("hang")
def fifo_as_a_labelme_json(root: Path) -> FuzzInput:
    (root / "labels").mkdir()
    os.mkfifo(root / "labels" / "0001.json")
    return FuzzInput(cli("convert", ct_nifti(root), "--labels", root / "labels", "--out", root / "out"),
                     refused("not a regular file"))


# -- segfaults: OpenCV never sees a path, so names that are not UTF-8 work ----------------------------
def _labelme_slice(folder: Path, image_name: str | None = None) -> Path:
    """A Labelme slice as convert writes it, with its PNG renamed to `image_name`."""
    folder.mkdir(parents=True)
    volume = load_volume(ct_nifti(folder.parent, f"ct-{abs(hash(str(folder)))}.nii.gz"))
    mask = volume.hu[1] > 0
    json_path = export_slice(folder, 1, volume, mask, WINDOW_PRESETS["bone"])
    if image_name is not None:
        json_path.with_suffix(".png").rename(folder / image_name)
        data = json.loads(json_path.read_text(encoding="utf-8"))
        data["imagePath"] = image_name
        json_path.write_text(json.dumps(data), encoding="utf-8")
    return folder


def _labelled_pixels(result: dict) -> None:
    assert result["labels"]["max"] == 1 and result["shape"] == [1, 20, 24], result


@fuzz_case("segfault", torch=True)
def labelme_folder_named_not_utf8(root: Path) -> FuzzInput:
    return FuzzInput(training_case(_labelme_slice(root / f"case-{NOT_UTF8}")), loaded(extra=_labelled_pixels))


@fuzz_case("segfault", torch=True)
def labelme_image_path_not_utf8(root: Path) -> FuzzInput:
    folder = _labelme_slice(root / "case", f"slice-{NOT_UTF8}.png")
    return FuzzInput(training_case(folder), loaded(extra=_labelled_pixels))


@fuzz_case("segfault")
def image_folder_named_not_utf8(root: Path) -> FuzzInput:
    folder = root / f"images-{NOT_UTF8}"
    for index in range(2):
        png(folder / f"{index:04d}.png", np.full((8, 8), 50 + index, np.uint8))
    out = root / "out"

    def two_slices_written(result: dict) -> None:
        assert sorted(p.name for p in out.glob("*.png")) == [f"{slice_stem(i)}.png" for i in range(2)]
    return FuzzInput(cli("convert", folder, "--out", out), cli_succeeded(two_slices_written))


# -- outputs: a bad place is said before the work, as a message --------------------------------------
def _convert_to(root: Path, out: Path) -> dict:
    return cli("convert", ct_nifti(root), "--out", out)


@fuzz_case("output")
def output_under_a_regular_file(root: Path) -> FuzzInput:
    (root / "file").write_text("x")
    return FuzzInput(_convert_to(root, root / "file" / "out"), refused("--out .* is a file, not a folder"))


@fuzz_case("output")
def output_name_over_255_characters(root: Path) -> FuzzInput:
    return FuzzInput(_convert_to(root, root / ("n" * 300)), refused("too long"))


@fuzz_case("output")
def output_on_a_read_only_place(root: Path) -> FuzzInput:
    if os.geteuid() == 0:  # root writes anywhere a mode allows: use a file system that refuses everyone
        out = Path("/sys/mandible-studio-fuzz")
    else:
        (root / "locked").mkdir(mode=0o555)
        out = root / "locked" / "out"
    return FuzzInput(_convert_to(root, out), refused("cannot write --out"))


@fuzz_case("output")
def export_mesh_under_a_regular_file(root: Path) -> FuzzInput:
    (root / "file").write_text("x")
    return FuzzInput(cli("export", "--input", ct_nifti(root), "--labels", labels_nifti(root),
                         "--stl", root / "file" / "m.stl"), refused("--stl .* is a file, not a folder"))


@fuzz_case("output")
def export_nifti_name_over_255_characters(root: Path) -> FuzzInput:
    return FuzzInput(cli("export", "--input", ct_nifti(root), "--labels", labels_nifti(root),
                         "--nifti", root / ("n" * 300 + ".nii.gz")), refused("longer than 255"))


@fuzz_case("output", torch=True)
def predict_output_checked_before_the_model(root: Path) -> FuzzInput:
    (root / "file").write_text("x")
    return FuzzInput(cli("predict", ct_nifti(root), "--model", root / "missing.msmodel", "--out", root / "file" / "o"),
                     refused("--out .* is a file, not a folder"))


# -- JSON and workspace cases ------------------------------------------------------------------------
@fuzz_case("json-and-cases")
def labelme_json_nested_100000_deep(root: Path) -> FuzzInput:
    (root / "labels").mkdir()
    (root / "labels" / "0001.json").write_text("[" * 100_000 + "]" * 100_000)
    return FuzzInput(cli("convert", ct_nifti(root), "--labels", root / "labels", "--out", root / "out"),
                     refused("nests JSON too deeply"))


@fuzz_case("json-and-cases", torch=True)
def labelme_json_declaring_100000_squared(root: Path) -> FuzzInput:
    folder = _labelme_slice(root / "case")
    data = json.loads((folder / f"{slice_stem(1)}.json").read_text(encoding="utf-8"))
    data["imageHeight"] = data["imageWidth"] = 100_000
    (folder / f"{slice_stem(1)}.json").write_text(json.dumps(data), encoding="utf-8")
    return FuzzInput(training_case(folder), refused("100000x100000 is larger than any CT slice"))


@fuzz_case("json-and-cases")
def workspace_with_damaged_case_files(root: Path) -> FuzzInput:
    workspace = Workspace.create(root / "ws")
    workspace.add_case(load_volume(ct_nifti(root, "good.nii.gz")))
    good = (next(workspace.cases_dir.iterdir()) / "case.json").read_text()
    damaged = {"a-list": "[1, 2]", "statuses-list": good.replace('"statuses": {}', '"statuses": [1, 2]'),
               "nested": "[" * 100_000 + "]" * 100_000, "latin1": '{"format": "caf\xe9"}',
               "not-json": "{", "truncated": good[:40]}
    for name, text in damaged.items():
        (workspace.cases_dir / name).mkdir()
        (workspace.cases_dir / name / "case.json").write_bytes(text.encode("latin-1"))
    (workspace.cases_dir / "folder" / "case.json").mkdir(parents=True)
    return FuzzInput(workspace_cases(root / "ws"), loaded(cases=["good"]))


@fuzz_case("json-and-cases")
def workspace_json_nested_100000_deep(root: Path) -> FuzzInput:
    Workspace.create(root / "ws")
    (root / "ws" / "workspace.json").write_text("[" * 100_000 + "]" * 100_000)
    return FuzzInput(workspace_cases(root / "ws"), refused("workspace.json cannot be read"))


# -- model files -------------------------------------------------------------------------------------
class _Trap:
    """Unpickling this writes a marker file: proof that a model file was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled!"))


@fuzz_case("model-file", torch=True)
def pickle_renamed_msmodel(root: Path) -> FuzzInput:
    marker = root / "UNPICKLED"
    (root / "evil.msmodel").write_bytes(pickle.dumps({"state_dict": _Trap(marker)}))

    def never_unpickled(result: dict) -> None:
        refused("not a Mandible Studio model")(result)
        assert not marker.exists(), "the pickle was unpickled"
    return FuzzInput(cli("predict", ct_nifti(root), "--model", root / "evil.msmodel", "--out", root / "o"),
                     never_unpickled)
