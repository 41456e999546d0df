"""`python main.py export`: one JSON line, files written, clear errors for bad requests."""
from __future__ import annotations

import json

import highdicom as hd
import nibabel as nib
import numpy as np
import pytest
import trimesh

import main
from core.workspace.edit_rules import Allow
from core.io.dicom import load_dicom_series
from core.io.nifti import load_nifti_labels
from core.workspace import OpenCase, Workspace
from tests.support.paths import shared_path
from tests.support.cases import saved_case


@pytest.fixture(scope="module")
def dicom_ct_and_label():
    return shared_path("data", "dicom", "okbp_pt_201"), shared_path(
        "data", "openkbp", "validation", "labelsTr", "okbp_pt_201.nii.gz")


def _export(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main.main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, (json.loads(lines[-1]) if code == 0 else None), err


def test_export_writes_every_format_and_prints_one_json_line(dicom_ct_and_label, tmp_path, capsys):
    ct, label = dicom_ct_and_label
    code, summary, _ = _export(capsys, "--input", ct, "--labels", label, "--stl", tmp_path / "mandible.stl",
                               "--nifti", tmp_path / "labels.nii.gz", "--dicom-seg", tmp_path / "seg.dcm",
                               "--smooth", 5, "--faces", 2500)
    assert code == 0
    assert {"volume_ml", "area_cm2", "watertight", "faces"} <= set(summary)
    voxels = nib.load(label)
    voxel_ml = (np.asarray(voxels.dataobj) > 0).sum() * np.prod(voxels.header.get_zooms()) / 1000
    assert abs(summary["volume_ml"] - voxel_ml) / voxel_ml < 0.05
    assert summary["watertight"] is True and summary["faces"] <= 2500
    mesh = trimesh.load(tmp_path / "mandible.stl")
    assert len(mesh.faces) == summary["faces"] and mesh.is_watertight
    assert np.array_equal(np.asarray(nib.load(tmp_path / "labels.nii.gz").dataobj), np.asarray(voxels.dataobj))
    assert hd.seg.segread(tmp_path / "seg.dcm").ReferencedSeriesSequence[0].SeriesInstanceUID == \
        load_dicom_series(ct).series_uid


def test_workspace_case_exports_only_the_chosen_statuses(dicom_ct_and_label, tmp_path, capsys, caplog):
    ct, label = dicom_ct_and_label
    volume = load_dicom_series(ct)
    labels = load_nifti_labels(label, volume)
    store = Workspace.create(tmp_path / "ws").add_case(volume)
    case = OpenCase(volume, store)
    annotated = case.import_labels(labels)
    for index in annotated[5:8]:
        case.apply_prediction(index, labels[index], allow=Allow(human=True))
    case.save()
    code, everything, _ = _export(capsys, "--input", ct, "--labels", store.case_dir)
    assert code == 0 and everything["gaps"] == 0
    code, human, _ = _export(capsys, "--input", ct, "--labels", store.case_dir, "--statuses", "edited,reviewed",
                               "--nifti", tmp_path / "human.nii.gz")
    assert code == 0 and human["gaps"] == 3 and human["volume_ml"] < everything["volume_ml"]
    assert "3 empty slices inside the mandible" in caplog.text
    written = load_nifti_labels(tmp_path / "human.nii.gz", volume)
    assert not written[annotated[5:8]].any() and written[annotated[4]].any()
    # the Labelme folder alone (as convert writes it) gives the same mesh as the whole case
    code, folder, _ = _export(capsys, "--input", ct, "--labels", store.annotations_dir)
    assert code == 0 and folder == everything
    code, filled, _ = _export(capsys, "--input", ct, "--labels", store.case_dir, "--statuses", "edited",
                              "--fill-gaps")
    assert human["volume_ml"] < filled["volume_ml"] <= everything["volume_ml"] * 1.05


def test_bad_requests_exit_2_with_a_clear_message(dicom_ct_and_label, tmp_path, capsys):
    ct, label = dicom_ct_and_label
    nifti_ct = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_201_0000.nii.gz")
    code, _, err = _export(capsys, "--input", nifti_ct, "--labels", label, "--dicom-seg", tmp_path / "seg.dcm")
    assert code == 2 and "open the original DICOM folder" in err
    empty = tmp_path / "empty.nii.gz"
    source = nib.load(label)
    nib.save(nib.Nifti1Image(np.zeros(source.shape, np.uint8), source.affine), empty)
    code, _, err = _export(capsys, "--input", ct, "--labels", empty, "--stl", tmp_path / "m.stl")
    assert code == 2 and "mask of" in err and "is empty" in err
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    code, _, err = _export(capsys, "--input", ct, "--labels", label, "--stl", blocker / "m.stl")
    assert code == 2 and "is a file, not a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "empty.nii.gz"]
    code, _, err = _export(capsys, "--input", ct, "--labels", label, "--statuses", "edited,approved")
    assert code == 2 and "predicted, edited, reviewed" in err


def test_labelme_dataset_goes_to_the_case_folder_and_is_never_replaced_silently(tmp_path, capsys):
    case = saved_case(Workspace.create(tmp_path / "ws"), "jaw", tmp_path / "scans" / "jaw")
    out = tmp_path / "out"
    code, summary, _ = _export(capsys, "--labels", case.store.case_dir, "--labelme-dataset", out)
    assert code == 0 and summary == {"labelme_dataset": str(out / "jaw"), "slices": 3}
    assert (out / "jaw" / "0004.json").read_bytes() == case.store.annotation_path(3).read_bytes()
    code, _, err = _export(capsys, "--labels", case.store.case_dir, "--labelme-dataset", out)
    assert code == 2 and "already holds an export of this case" in err and "--replace" in err
    code, summary, _ = _export(capsys, "--labels", case.store.case_dir, "--labelme-dataset", out, "--replace",
                               "--statuses", "reviewed,edited")
    assert code == 0 and summary["slices"] == 3
    code, _, err = _export(capsys, "--labels", case.store.annotations_dir, "--labelme-dataset", out)
    assert code == 2 and "main.py convert" in err
    code, _, err = _export(capsys, "--labels", case.store.case_dir, "--stl", tmp_path / "m.stl")
    assert code == 2 and "--input (the CT) is needed" in err
