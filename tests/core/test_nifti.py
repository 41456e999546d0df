"""NIfTI volumes load in canonical orientation whatever their affine; labels round-trip."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from core.errors import InputError
from core.io.loader import describe_input, load_volume
from core.io.nifti import load_nifti_labels, load_nifti_volume, save_nifti_labels, volume_affine_ras
from tests.support.paths import SAMPLE_DIR, shared_path

SPACING = (2.0, 3.0, 4.0)  # mm along i, j, k


def _lpi_image(data: np.ndarray) -> nib.Nifti1Image:
    """OpenKBP layout: i to the patient's left, j posterior, k inferior (codes L, P, I)."""
    return nib.Nifti1Image(data, np.diag([-SPACING[0], -SPACING[1], -SPACING[2], 1.0]))


def _ras_image(data: np.ndarray) -> nib.Nifti1Image:
    """The same voxels stored RAS: every axis flipped, origin moved to the opposite corner."""
    ni, nj, nk = data.shape
    affine = np.diag([SPACING[0], SPACING[1], SPACING[2], 1.0])
    affine[:3, 3] = [-(ni - 1) * SPACING[0], -(nj - 1) * SPACING[1], -(nk - 1) * SPACING[2]]
    return nib.Nifti1Image(np.ascontiguousarray(data[::-1, ::-1, ::-1]), affine)


def _permuted_image(data: np.ndarray) -> nib.Nifti1Image:
    """The same voxels stored as [k, i, j] (slice axis first)."""
    affine = np.zeros((4, 4))
    affine[0, 1], affine[1, 2], affine[2, 0], affine[3, 3] = -SPACING[0], -SPACING[1], -SPACING[2], 1.0
    return nib.Nifti1Image(np.ascontiguousarray(data.transpose(2, 0, 1)), affine)


@pytest.fixture
def lpi_data() -> np.ndarray:
    return np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)


def test_lpi_nifti_is_shown_anterior_up_patient_right_left(tmp_path, lpi_data):
    nib.save(_lpi_image(lpi_data), tmp_path / "ct_0000.nii.gz")
    volume = load_nifti_volume(tmp_path / "ct_0000.nii.gz")
    # canonical [slice, row, col] = [k (superior first), j (anterior first), i (patient right first)]
    assert np.array_equal(volume.hu, lpi_data.transpose(2, 1, 0))
    assert volume.spacing == pytest.approx(SPACING[::-1])
    assert volume.name == "ct" and volume.hu.dtype == np.int16


@pytest.mark.parametrize("make", [_ras_image, _permuted_image])
def test_other_orientations_load_to_the_same_canonical_array(tmp_path, lpi_data, make):
    nib.save(_lpi_image(lpi_data), tmp_path / "lpi.nii.gz")
    nib.save(make(lpi_data), tmp_path / "other.nii.gz")
    reference = load_nifti_volume(tmp_path / "lpi.nii.gz")
    volume = load_nifti_volume(tmp_path / "other.nii.gz")
    assert np.array_equal(volume.hu, reference.hu)
    assert np.allclose(volume.affine_lps(), reference.affine_lps())


def test_affine_ras_gives_back_the_original_affine(tmp_path, lpi_data):
    image = _lpi_image(lpi_data)
    image.affine[:3, 3] = [10.0, -20.0, 30.0]
    nib.save(image, tmp_path / "ct.nii")
    volume = load_nifti_volume(tmp_path / "ct.nii")
    assert np.allclose(volume_affine_ras(volume), image.affine)
    assert nib.aff2axcodes(volume_affine_ras(volume)) == ("L", "P", "I")


def test_labels_round_trip_through_save_and_load(tmp_path, lpi_data):
    nib.save(_ras_image(lpi_data), tmp_path / "ct.nii.gz")
    volume = load_nifti_volume(tmp_path / "ct.nii.gz")
    labels = (volume.hu % 3 == 0).astype(np.uint8)
    save_nifti_labels(tmp_path / "mask.nii.gz", labels, volume)
    assert np.array_equal(load_nifti_labels(tmp_path / "mask.nii.gz", volume), labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ct.nii.gz", "mask.nii.gz"]  # no temporary left


def test_labels_of_another_shape_are_refused(tmp_path, lpi_data):
    nib.save(_lpi_image(lpi_data), tmp_path / "ct.nii.gz")
    nib.save(_lpi_image(np.zeros((5, 6, 8), np.uint8)), tmp_path / "mask.nii.gz")
    volume = load_nifti_volume(tmp_path / "ct.nii.gz")
    with pytest.raises(InputError, match="shape"):
        load_nifti_labels(tmp_path / "mask.nii.gz", volume)


def test_damaged_and_missing_files_are_input_errors(tmp_path):
    (tmp_path / "bad.nii.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="not a readable NIfTI"):
        load_nifti_volume(tmp_path / "bad.nii.gz")
    with pytest.raises(InputError, match="does not exist"):
        load_nifti_volume(tmp_path / "missing.nii.gz")


@pytest.mark.shared
def test_shared_case_matches_its_known_layout():
    path = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz")
    volume = load_nifti_volume(path)
    raw = np.asanyarray(nib.load(path).dataobj)
    assert np.array_equal(volume.hu, raw.transpose(2, 1, 0))
    assert np.allclose(volume_affine_ras(volume), nib.load(path).affine)
    labels = load_nifti_labels(SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz", volume)
    assert set(np.unique(labels)) == {0, 1}


def test_loader_dispatches_nifti_files(tmp_path, lpi_data):
    nib.save(_lpi_image(lpi_data), tmp_path / "ct.nii.gz")
    assert describe_input(tmp_path / "ct.nii.gz") == "nifti"
    assert np.array_equal(load_volume(tmp_path / "ct.nii.gz").hu, lpi_data.transpose(2, 1, 0))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="neither DICOM, NIfTI"):
        load_volume(tmp_path / "notes.txt")


@pytest.mark.parametrize("flips", [(), (0,), (1, 2), (0, 1, 2)])
def test_canonicalize_in_place_gives_the_copying_result_without_a_second_volume(flips):
    """A large axial scan is flipped in place (no second copy of it); the result is the copying path's."""
    from core.io.nifti import canonicalize

    affine = np.diag([1.0, 1.0, -1.0, 1.0])[:, [2, 1, 0, 3]]  # canonical axes: slice inferior, row, col
    for axis in flips:
        affine[:3, axis] *= -1
    data = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)
    copied, copied_affine, _ = canonicalize(data.copy(), affine)
    owned = data.copy()
    flipped, flipped_affine, _ = canonicalize(owned, affine, in_place=True)
    assert flipped is owned and np.array_equal(flipped, copied) and np.allclose(flipped_affine, copied_affine)
    assert np.array_equal(copied, np.flip(data, flips) if flips else data)
