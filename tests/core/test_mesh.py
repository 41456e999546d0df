"""The mandible mesh: volume close to the voxels, closed, in the CT's patient frame."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.errors import Cancelled, ExportError
from core.io.mesh import MeshOptions, build_mesh
from core.io.nifti import load_nifti_labels, load_nifti_volume
from core.volume import Volume
from tests.support.paths import shared_path
from tests.support.paths import validation_label_path

NIFTI_CASES = ["okbp_pt_202", "okbp_pt_210", "okbp_pt_224"]


def _nifti_case(case: str):
    volume = load_nifti_volume(shared_path("data", "openkbp", "validation", "imagesTr", f"{case}_0000.nii.gz"))
    return volume, load_nifti_labels(validation_label_path(case), volume)


def _ct_box(volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """LPS bounds of the CT's voxels, each voxel counted to its outer faces."""
    corners = np.array([[a, b, c] for a in (-0.5, volume.shape[0] - 0.5) for b in (-0.5, volume.shape[1] - 0.5)
                        for c in (-0.5, volume.shape[2] - 0.5)])
    lps = corners @ volume.affine_lps()[:3, :3].T + volume.affine_lps()[:3, 3]
    return lps.min(axis=0), lps.max(axis=0)


def _check_acceptance(volume: Volume, labels: np.ndarray) -> None:
    result = build_mesh(labels, volume)
    voxel_ml = labels.astype(bool).sum() * np.prod(volume.spacing) / 1000
    assert abs(result.volume_ml - voxel_ml) / voxel_ml < 0.05, (result.volume_ml, voxel_ml)
    assert result.watertight and result.manifold
    low, high = _ct_box(volume)
    assert np.all(result.mesh.bounds[0] >= low) and np.all(result.mesh.bounds[1] <= high)
    # the mesh sits on the voxels: its centre of mass is the mask's centroid in patient mm
    voxels = np.argwhere(labels > 0) @ volume.affine_lps()[:3, :3].T + volume.affine_lps()[:3, 3]
    assert np.linalg.norm(result.mesh.center_mass - voxels.mean(axis=0)) < min(volume.spacing)
    assert result.area_cm2 > 0 and result.summary()["faces"] == len(result.mesh.faces)


def test_dicom_case_mesh_matches_voxel_volume_and_is_closed(dicom_case):
    _check_acceptance(*dicom_case)


@pytest.mark.parametrize("case", NIFTI_CASES)
def test_nifti_case_mesh_matches_voxel_volume_and_is_closed(case):
    _check_acceptance(*_nifti_case(case))


def test_decimation_reaches_the_target_and_stays_closed(dicom_case):
    volume, labels = dicom_case
    full = build_mesh(labels, volume)
    small = build_mesh(labels, volume, MeshOptions(target_faces=1000))
    assert len(full.mesh.faces) > 2000
    assert len(small.mesh.faces) <= 1050 and small.watertight
    assert abs(small.volume_ml - full.volume_ml) / full.volume_ml < 0.03


def test_smoothing_removes_staircase_without_losing_volume(dicom_case):
    volume, labels = dicom_case
    raw = build_mesh(labels, volume, MeshOptions(smooth_iterations=0))
    smooth = build_mesh(labels, volume, MeshOptions(smooth_iterations=20))
    assert smooth.area_cm2 < raw.area_cm2 * 0.97  # the voxel staircase is gone
    assert abs(smooth.volume_ml - raw.volume_ml) / raw.volume_ml < 0.03


def test_largest_part_or_all_parts_above_a_size():
    volume = Volume(hu=np.zeros((20, 30, 30), np.int16), spacing=(2.0, 1.0, 1.0), name="parts")
    labels = np.zeros(volume.shape, np.uint8)
    labels[2:12, 2:20, 2:20] = 1   # 6.48 mL
    labels[14:18, 24:28, 24:28] = 1  # 0.128 mL
    labels[15, 2, 27] = 1  # 0.002 mL speck
    default = build_mesh(labels, volume, MeshOptions(smooth_iterations=0))
    assert (default.parts_kept, default.parts_dropped) == (2, 1)
    largest = build_mesh(labels, volume, MeshOptions(smooth_iterations=0, keep_largest=True))
    assert (largest.parts_kept, largest.parts_dropped) == (1, 2)
    assert abs(largest.volume_ml - 6.48) < 0.15 and abs(default.volume_ml - 6.608) < 0.15


def test_keeping_the_large_parts_keeps_both_rami_of_a_scan_without_the_chin():
    """Issue 18 H: a scan that starts above the chin holds the two rami as two parts of about one size; "Keep only
    the large parts" dropped one of them and called it a small part."""
    volume = Volume(hu=np.zeros((20, 40, 40), np.int16), spacing=(2.0, 1.0, 1.0), name="rami")
    labels = np.zeros(volume.shape, np.uint8)
    labels[2:18, 4:16, 3:9] = 1   # the left ramus, 2.3 mL
    labels[2:17, 4:16, 30:36] = 1  # the right one, a slice shorter
    labels[10, 30, 20] = 1  # a speck
    kept = build_mesh(labels, volume, MeshOptions(smooth_iterations=0, keep_largest=True))
    assert (kept.parts_kept, kept.parts_dropped) == (2, 1)


def test_mesh_follows_the_volume_orientation():
    """Flipping the column axis in the direction matrix mirrors the mesh, with normals still outward."""
    labels = np.zeros((10, 12, 12), np.uint8)
    labels[2:8, 3:9, 1:5] = 1
    plain = Volume(hu=np.zeros(labels.shape, np.int16), spacing=(2.0, 1.0, 1.0), name="a")
    mirrored = Volume(hu=plain.hu, spacing=plain.spacing, name="b",
                      direction=plain.direction @ np.diag([1.0, 1.0, -1.0]))
    a = build_mesh(labels, plain, MeshOptions(smooth_iterations=0))
    b = build_mesh(labels, mirrored, MeshOptions(smooth_iterations=0))
    assert a.mesh.volume > 0 and b.mesh.volume > 0
    assert np.isclose(a.mesh.center_mass[0], -b.mesh.center_mass[0])


def test_bad_requests_and_cancel(dicom_case):
    volume, labels = dicom_case
    with pytest.raises(ExportError, match="empty"):
        build_mesh(np.zeros_like(labels), volume)
    no_spacing = Volume(hu=volume.hu, spacing=volume.spacing, name="x",
                        spacing_known=False)
    with pytest.raises(ExportError, match="no spacing information"):
        build_mesh(labels, no_spacing)
    with pytest.raises(ExportError, match="at least 100"):
        build_mesh(labels, volume, MeshOptions(target_faces=10))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        build_mesh(labels, volume, cancel=cancel)
