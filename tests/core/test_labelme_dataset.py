"""The Labelme dataset export of a workspace case (core.export): every export of a case goes to its own folder,
which no other case ever shares; the saved files are copied byte for byte (other labels, flags and keys stay);
an earlier export is replaced only when asked, and never half."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from core.annotation.slice_status import SliceStatus
from core.errors import Cancelled, ExportError
from core.export.case_folder import MARKER, case_folder, owner_of
from core.export.exporters import EXPORTERS
from core.export.labelme_dataset import export_labelme_dataset, saved_slices
from core.volume import Volume
from core.workspace import OpenCase
from tests.support.cases import saved_case


def test_the_saved_files_are_copied_byte_for_byte(workspace, tmp_path):
    case = saved_case(workspace, "jaw", tmp_path / "scans" / "jaw")
    saved = case.store.annotation_path(3)
    data = json.loads(saved.read_text())
    data["flags"] = {"checked": True}  # what Labelme or a colleague added to the saved file
    data["shapes"].append({"label": "canal", "points": [[1, 1], [5, 1], [5, 5]], "shape_type": "polygon",
                           "group_id": None, "flags": {}, "description": ""})
    saved.write_text(json.dumps(data, indent=3))
    folder = case_folder(tmp_path / "out", case.store.case_id, "jaw")
    written = export_labelme_dataset(case.store, folder)
    assert folder.path == tmp_path / "out" / "jaw" and written.slices == (2, 3, 4)
    names = sorted(p.name for p in folder.path.iterdir())
    assert names == [MARKER, "0003.json", "0003.png", "0004.json", "0004.png", "0005.json", "0005.png"]
    for name in names[1:]:
        assert (folder.path / name).read_bytes() == (case.store.annotations_dir / name).read_bytes()


def test_two_cases_of_the_same_name_never_share_a_folder(workspace, tmp_path):
    first = saved_case(workspace, "DICOM", tmp_path / "cd1" / "DICOM", slices=(2, 3, 4, 5, 6))
    second = saved_case(workspace, "DICOM", tmp_path / "cd2" / "DICOM", slices=(1, 2))
    out = tmp_path / "out"
    one = export_labelme_dataset(first.store, case_folder(out, first.store.case_id, "DICOM"))
    before = {p.name: p.read_bytes() for p in one.folder.iterdir()}
    two = export_labelme_dataset(second.store, case_folder(out, second.store.case_id, "DICOM"))
    assert one.folder == out / "DICOM" and two.folder == out / "DICOM_2"
    assert {p.name: p.read_bytes() for p in one.folder.iterdir()} == before  # the first patient is untouched
    assert owner_of(one.folder) == first.store.case_id and owner_of(two.folder) == second.store.case_id
    assert case_folder(out, first.store.case_id, "DICOM").path == out / "DICOM"  # each case finds its own again


def test_a_folder_the_user_filled_is_never_written_into(workspace, tmp_path):
    case = saved_case(workspace, "jaw", tmp_path / "jaw")
    (tmp_path / "out" / "jaw").mkdir(parents=True)
    (tmp_path / "out" / "jaw" / "notes.txt").write_text("mine")
    assert case_folder(tmp_path / "out", case.store.case_id, "jaw").path == tmp_path / "out" / "jaw_2"
    (tmp_path / "out" / "empty").mkdir()
    assert case_folder(tmp_path / "out", case.store.case_id, "empty").path == tmp_path / "out" / "empty"


def test_an_earlier_export_is_replaced_only_when_asked_and_then_wholly(workspace, tmp_path):
    case = saved_case(workspace, "jaw", tmp_path / "jaw", slices=(2, 3, 4))
    folder = case_folder(tmp_path / "out", case.store.case_id, "jaw")
    export_labelme_dataset(case.store, folder)
    case.annotation(4).undo_change(case.strokes[4])  # back to empty: its files go at the next save
    case.annotation(5).paint_disk(16, 16, 3, 1)
    case.save()
    with pytest.raises(ExportError, match="already holds an export of this case"):
        export_labelme_dataset(case.store, folder)
    again = export_labelme_dataset(case.store, folder, replace=True)
    assert again.slices == tuple(saved_slices(case.store)) and 4 not in again.slices and 5 in again.slices
    assert "0005.json" in again.removed  # slice 5 (index 4) is no longer saved: its old files went
    jsons = sorted(p.name for p in folder.path.glob("*.json"))
    assert jsons == [f"{i + 1:04d}.json" for i in again.slices]


def test_a_cancelled_export_leaves_the_earlier_one_as_it_was(workspace, tmp_path):
    case = saved_case(workspace, "jaw", tmp_path / "jaw")
    folder = case_folder(tmp_path / "out", case.store.case_id, "jaw")
    export_labelme_dataset(case.store, folder)
    before = {p.name: p.read_bytes() for p in folder.path.iterdir()}
    case.annotation(3).paint_disk(10, 10, 3, 1)
    case.save()
    cancel = threading.Event()
    with pytest.raises(Cancelled, match="nothing was replaced"):
        export_labelme_dataset(case.store, folder, replace=True,
                               progress=lambda step, total, message: cancel.set(), cancel=cancel)
    assert {p.name: p.read_bytes() for p in folder.path.iterdir()} == before  # no temporary left either


def test_which_slices_follow_the_statuses_asked_for(workspace, tmp_path):
    case = saved_case(workspace, "jaw", tmp_path / "jaw", slices=(2, 3))
    case.toggle_reviewed(3)
    case.save()
    assert saved_slices(case.store) == [2, 3]
    assert saved_slices(case.store, [SliceStatus.REVIEWED]) == [3]
    empty = Volume(hu=np.zeros((4, 8, 8), np.int16), spacing=(1.0, 1.0, 1.0), name="none")
    nothing = OpenCase(empty, workspace.add_case(empty, tmp_path / "none")).store
    with pytest.raises(ExportError, match="no slice of this case is saved"):
        export_labelme_dataset(nothing, case_folder(tmp_path / "out", nothing.case_id, "none"))


def test_every_format_has_a_flag_a_button_and_a_default_name_after_the_case():
    assert [e.flag for e in EXPORTERS.values()] == ["--stl", "--nifti", "--dicom-seg", "--labelme-dataset"]
    assert all(e.button.endswith("…") for e in EXPORTERS.values())
    names = [e.default_name("okbp pt/224") for e in EXPORTERS.values()]
    assert names == ["okbp_pt_224.stl", "okbp_pt_224_labels.nii.gz", "okbp_pt_224_seg.dcm", "okbp_pt_224"]
    assert EXPORTERS["mesh"].default_name(None) == "mandible.stl"
