"""Mesh and NIfTI files: readable by other software, free of patient identity, written atomically."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import trimesh

from core.errors import ExportError
from core.io.mesh import MeshOptions, build_mesh
from core.io.mesh_export import export_label_nifti, export_mesh
from core.io.nifti import load_nifti_labels, load_nifti_volume
from tests.support.paths import shared_path


@pytest.fixture(scope="module")
def dicom_mesh_case(dicom_case):
    volume, labels = dicom_case
    return volume.source, volume, labels, build_mesh(labels, volume, MeshOptions(target_faces=3000))


@pytest.mark.parametrize("suffix", [".stl", ".ply", ".obj"])
def test_mesh_files_read_back_in_patient_mm_without_identity(dicom_mesh_case, tmp_path, suffix):
    folder, volume, labels, result = dicom_mesh_case
    path = export_mesh(tmp_path / f"jaw{suffix}", result.mesh)
    loaded = trimesh.load(path, force="mesh")
    assert len(loaded.faces) == len(result.mesh.faces)
    assert np.allclose(loaded.bounds, result.mesh.bounds, atol=1e-3)
    assert loaded.is_watertight
    assert abs(loaded.volume / 1000 - result.volume_ml) < 0.01
    import pydicom

    header = pydicom.dcmread(next(p for p in folder.iterdir() if p.is_file()), stop_before_pixels=True)
    data = path.read_bytes()
    for identity in (str(header.PatientName), str(header.PatientID), volume.name):
        assert identity.encode() not in data, f"{identity!r} leaked into the {suffix} file"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_binary_stl_header_is_fixed_text(dicom_mesh_case, tmp_path):
    result = dicom_mesh_case[3]
    data = export_mesh(tmp_path / "m.stl", result.mesh).read_bytes()
    assert data[:15] == b"Mandible Studio" and not data.startswith(b"solid")
    assert len(data) == 84 + 50 * len(result.mesh.faces)


def test_nifti_reads_back_equal_with_the_ct_affine(tmp_path):
    images = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz")
    label_file = shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_224.nii.gz")
    volume = load_nifti_volume(images)
    labels = load_nifti_labels(label_file, volume)
    path = export_label_nifti(tmp_path / "labels.nii.gz", labels, volume)
    written, original = nib.load(path), nib.load(label_file)
    assert np.allclose(written.affine, nib.load(images).affine, atol=1e-4)
    assert np.array_equal(np.asarray(written.dataobj), np.asarray(original.dataobj))
    assert np.array_equal(load_nifti_labels(path, volume), labels)


def test_nifti_of_a_dicom_ct_lines_up_with_its_source_label(dicom_mesh_case, tmp_path):
    _, volume, labels, _ = dicom_mesh_case
    path = export_label_nifti(tmp_path / "labels.nii.gz", labels, volume)
    original = nib.load(shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_201.nii.gz"))
    written = nib.load(path)
    assert np.allclose(written.affine, original.affine, atol=1e-3)
    assert np.array_equal(np.asarray(written.dataobj), np.asarray(original.dataobj))


def test_unwritable_paths_and_wrong_names_give_clear_messages(dicom_mesh_case, tmp_path):
    _, volume, labels, result = dicom_mesh_case
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder is expected")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_mesh(blocker / "mandible.stl", result.mesh)
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_label_nifti(blocker / "labels.nii.gz", labels, volume)
    with pytest.raises(ExportError, match=r"\.stl, \.ply or \.obj"):
        export_mesh(tmp_path / "mandible.3mf", result.mesh)
    with pytest.raises(ExportError, match="empty"):
        export_label_nifti(tmp_path / "labels.nii.gz", np.zeros_like(labels), volume)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]


def test_write_failure_keeps_the_previous_file(dicom_mesh_case, tmp_path, monkeypatch):
    _, volume, labels, result = dicom_mesh_case
    target = export_mesh(tmp_path / "mandible.stl", result.mesh)
    before = target.read_bytes()

    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        export_mesh(target, build_mesh(labels, volume, MeshOptions(target_faces=500)).mesh)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mandible.stl"]
