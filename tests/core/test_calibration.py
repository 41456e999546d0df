"""Grey-value calibration (core.calibration, docs/decisions/200): a scan in HU is used bit for bit; a CBCT whose
grey values are not HU is calibrated from its own histogram; the padding around its field of view becomes air."""
from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from core.calibration import (AIR_HU, AIR_LANDMARK_HU, BONE_HU, BY_USER, FROM_SCAN, HOUNSFIELD, SOFT_TISSUE_HU,
                              GreyCalibration, GreyMap, apply_calibration, estimate_calibration,
                              image_slices_calibration)
from core.calibration.field_of_view import find_padding, padding_mask
from core.errors import CalibrationError
from core.io.loader import load_volume
from core.volume import Volume
from tests.support.cbct_phantom import CORTEX_HU, SOFT_HU, cbct_stored, field_of_view, phantom_hu
from tests.support.paths import SAMPLE_DIR, shared_path


def test_a_grey_map_goes_both_ways_and_refuses_to_fall():
    grey = GreyMap.through([(1032, 18.0), (12, -1000.0)])
    np.testing.assert_allclose(grey([12, 1032, 2052]), [-1000, 18, 1036], atol=1e-3)
    np.testing.assert_allclose(grey.inverse(grey([-5, 700, 40000])), [-5, 700, 40000], rtol=1e-5)
    with pytest.raises(CalibrationError, match="must rise"):
        GreyMap((0.0, 100.0), (18.0, -1000.0))


def test_the_integer_table_is_the_arithmetic_rounded():
    grey = GreyMap.through([(300, -1000.0), (915, 18.0), (1600, 1200.0)])
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    expected = np.clip(np.rint(grey(values)), -32768, 32767).astype(np.int16)
    np.testing.assert_array_equal(grey.to_int16(values), expected)


def test_padding_is_the_constant_outside_the_circle_not_soft_tissue_of_that_value():
    hu = phantom_hu(slices=3)
    stored = cbct_stored(hu, air=-1000.0, bone=CORTEX_HU, padding=0.0, dtype=np.int16)
    stored[1, 60:64, 60:64] = 0  # soft tissue that happens to read 0, inside the field of view
    assert find_padding(stored) == (0.0, 0.0)
    mask = padding_mask(stored[1], (0.0, 0.0))
    np.testing.assert_array_equal(mask, ~field_of_view(stored.shape[-1]))


def test_no_padding_is_found_where_the_corners_hold_noisy_air():
    assert find_padding(np.rint(phantom_hu(slices=3)).astype(np.int16)) is None


@pytest.mark.parametrize("air, bone", [(300.0, 1600.0), (0.0, 2000.0), (0.0, 137.5)])
def test_a_cbct_whose_grey_values_are_not_hu_is_calibrated_from_its_histogram(air, bone):
    hu = phantom_hu()
    stored = cbct_stored(hu, air, bone)
    calibration = estimate_calibration(stored)
    assert calibration.source == FROM_SCAN and calibration.padding == (0.0, 0.0)
    assert "Grey values are not Hounsfield units: calibrated from the scan" in calibration.describe()
    calibrated = apply_calibration(stored, calibration)
    assert calibrated.dtype == np.int16 and np.shares_memory(calibrated, stored), "in place: no second volume"
    inside = field_of_view(hu.shape[-1])
    soft = np.abs(hu - SOFT_HU) < 60
    bone_voxels = np.abs(hu - CORTEX_HU) < 60
    step = (CORTEX_HU + 1000.0) / (bone - air)  # HU per stored grey value
    assert np.median(calibrated[:, inside][soft[:, inside]]) == pytest.approx(SOFT_TISSUE_HU, abs=30 + step)
    assert np.median(calibrated[:, inside][(hu[:, inside] < -900)]) == pytest.approx(AIR_LANDMARK_HU, abs=30 + step)
    assert np.median(calibrated[bone_voxels]) == pytest.approx(CORTEX_HU, rel=0.1)
    assert np.all(calibrated[:, ~inside] == AIR_HU), "outside the field of view is air"


def test_an_hu_scan_padded_with_zero_keeps_its_values_and_gets_air_outside():
    stored = cbct_stored(phantom_hu(), air=-1000.0, bone=CORTEX_HU, padding=0.0, dtype=np.int16)
    before = stored.copy()
    calibration = estimate_calibration(stored)
    assert calibration.in_hounsfield and calibration.padding_to_air()
    calibrated = apply_calibration(stored, calibration)
    inside = field_of_view(stored.shape[-1])
    np.testing.assert_array_equal(calibrated[:, inside], before[:, inside])
    assert np.all(calibrated[:, ~inside] == AIR_HU)


@pytest.mark.parametrize("parts", [("data", "cranium", "dicom"), ("data", "dicom", "okbp_pt_201"),
                                   ("data", "openkbp", "validation", "imagesTr", "okbp_pt_207_0000.nii.gz")])
def test_a_scan_in_hu_is_used_bit_for_bit(parts):
    path = shared_path(*parts)
    calibrated, stored = load_volume(path), load_volume(path, calibration=None)
    assert calibrated.calibration.in_hounsfield and not calibrated.calibration.changes_values()
    assert calibrated.hu.dtype == stored.hu.dtype
    np.testing.assert_array_equal(calibrated.hu, stored.hu)


@pytest.mark.parametrize("name", ["CT_small.dcm", "693_J2KI.dcm"])
def test_real_scanner_files_in_hu_are_used_as_stored(tmp_path, name):
    """A chest CT crop without outside air (lung is its darkest tissue), a lossy JPEG 2000 head with -3024 padding."""
    shutil.copy(get_testdata_file(name), tmp_path / name)
    volume = load_volume(tmp_path)
    assert volume.calibration.in_hounsfield
    np.testing.assert_array_equal(volume.hu, load_volume(tmp_path, calibration=None).hu)


def test_the_bundled_sample_is_hu():
    assert load_volume(SAMPLE_DIR).calibration.in_hounsfield


def _write_cbct_dicom(folder, stored: np.ndarray, padding: int | None):
    from tests.support.dicom import copy_sample_series, rewrite_uncompressed

    def edit(ds, k):
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelRepresentation = 0
        if padding is not None:
            ds.add_new(0x00280120, "US", padding)  # PixelPaddingValue
    for k, path in enumerate(copy_sample_series(folder, len(stored))):
        rewrite_uncompressed(path, lambda ds, k=k: edit(ds, k), stored[k])


def test_a_dicom_cbct_declares_its_padding_and_opens_calibrated(tmp_path):
    hu = phantom_hu(slices=6)
    stored = cbct_stored(hu, air=300.0, bone=1600.0, padding=0.0)
    _write_cbct_dicom(tmp_path, stored, padding=0)
    volume = load_volume(tmp_path)
    assert volume.declared_padding == (0.0, 0.0)
    assert volume.units == "HU" and volume.calibration.source == FROM_SCAN
    inside = field_of_view(hu.shape[-1])
    corner_air = volume.hu[:, ~inside]
    assert np.all(corner_air == AIR_HU)
    bone = np.abs(hu - CORTEX_HU) < 60
    assert np.median(volume.hu[bone]) == pytest.approx(CORTEX_HU, rel=0.1)


def test_soft_tissue_not_brighter_than_air_is_refused_plainly():
    from core.calibration import two_point_calibration

    with pytest.raises(CalibrationError, match="must be brighter than air"):
        two_point_calibration(900.0, 300.0, None)


def test_a_calibration_round_trips_through_its_record():
    calibration = estimate_calibration(cbct_stored(phantom_hu(), 300.0, 1600.0))
    again = GreyCalibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.grey_map == calibration.grey_map and again.padding == calibration.padding
    assert again.landmarks.soft_tissue == pytest.approx(calibration.landmarks.soft_tissue, abs=1e-3)
    with pytest.raises(CalibrationError, match="not readable"):
        GreyCalibration.from_dict({"source": "scan", "map": {"stored": [1], "hu": []}})


def test_image_slices_read_their_display_range_as_the_bone_window():
    """PNG stacks: one map (core.calibration.image_slices_calibration) for the network and for training data."""
    from core.model.config import ModelConfig
    from core.model.preprocess import image_slices_map

    stack = Volume(hu=np.arange(256, dtype=np.uint8).reshape(1, 16, 16).repeat(2, axis=0), spacing=(1, 1, 1),
                   name="png", units="display")
    grey = image_slices_map(stack, ModelConfig())
    np.testing.assert_allclose(grey([0, 255]), [-500.0, 1300.0])
    assert grey == image_slices_calibration(0, 255, 400.0, 1800.0).grey_map
    assert image_slices_map(Volume(hu=np.zeros((1, 4, 4), np.int16), spacing=(1, 1, 1), name="ct"),
                            ModelConfig()) is None


def _cbct_nifti(path, stored: np.ndarray) -> None:
    image = nib.Nifti1Image(np.ascontiguousarray(stored.transpose(2, 1, 0)), np.diag([-0.5, -0.5, 0.5, 1.0]))
    nib.save(image, str(path))


def test_the_users_two_point_correction_is_applied_in_place_and_again_on_reopening(tmp_path):
    from core.workspace import OpenCase, Workspace
    from core.workspace.case_calibration import correct_calibration

    hu = phantom_hu()
    stored = cbct_stored(hu, 300.0, 1600.0)
    path = tmp_path / "cbct.nii.gz"
    _cbct_nifti(path, stored)
    workspace = Workspace.create(tmp_path / "ws")
    volume = load_volume(path)
    case = OpenCase(volume, workspace.add_case(volume, path))
    assert json.loads((case.store.case_dir / "case.json").read_text())["calibration"]["source"] == FROM_SCAN
    buffer = volume.hu
    air, soft = 290.0, 880.0  # what the user clicked: a little off the scan's estimate
    calibration = correct_calibration(case, air, soft)
    assert calibration.source == BY_USER and volume.hu is buffer, "corrected in place"
    raw = load_volume(path, calibration=None).hu
    expected = GreyMap.through([(air, AIR_LANDMARK_HU), (soft, SOFT_TISSUE_HU)]).to_int16(raw)
    inside = ~np.stack([padding_mask(plane, (0.0, 0.0)) for plane in raw])
    assert np.abs(volume.hu[inside].astype(int) - expected[inside]).max() <= 1, "as from the file, within 1 HU"
    assert np.all(volume.hu[~inside] == AIR_HU)
    assert "calibrated by you" in calibration.describe()
    reopened = load_volume(path, calibration=None)  # as the app opens a case: the case calibrates it
    Workspace.open(tmp_path / "ws").add_case(reopened, path)
    assert reopened.calibration.source == BY_USER
    np.testing.assert_array_equal(reopened.hu[inside], expected[inside])
    calibrated_first = load_volume(path)  # calibrated from the scan, then corrected from there
    Workspace.open(tmp_path / "ws").add_case(calibrated_first, path)
    assert np.abs(calibrated_first.hu[inside].astype(int) - expected[inside]).max() <= 1


def test_a_damaged_calibration_in_case_json_is_estimated_again(tmp_path):
    from core.workspace import Workspace

    path = tmp_path / "cbct.nii.gz"
    _cbct_nifti(path, cbct_stored(phantom_hu(), 300.0, 1600.0))
    workspace = Workspace.create(tmp_path / "ws")
    store = workspace.add_case(load_volume(path), path)
    record = json.loads((store.case_dir / "case.json").read_text())
    record["calibration"] = {"source": "user", "map": "broken"}
    (store.case_dir / "case.json").write_text(json.dumps(record))
    volume = load_volume(path)
    store = Workspace.open(tmp_path / "ws").add_case(volume, path)
    assert volume.calibration.source == FROM_SCAN and store.record.calibration == volume.calibration


def test_image_slices_are_not_corrected_as_a_scan(tmp_path):
    import cv2

    from core.workspace import OpenCase, Workspace
    from core.workspace.case_calibration import correct_calibration

    for k in range(3):
        cv2.imwrite(str(tmp_path / f"slice{k}.png"), np.full((32, 32), 40 * k, np.uint8))
    volume = load_volume(tmp_path)
    case = OpenCase(volume, Workspace.create(tmp_path / "ws").add_case(volume, tmp_path))
    assert volume.calibration.source == "image slices" and "bone window" in volume.calibration.describe()
    with pytest.raises(CalibrationError, match="image slices"):
        correct_calibration(case, 0.0, 100.0)


def test_a_scan_in_hu_with_no_air_in_view_is_used_as_stored():
    """A field of view inside the head (soft tissue and bone only): its two classes are not air and soft tissue;
    a map from them would put bone at tens of HU. The values are HU already and stay bit for bit."""
    rng = np.random.default_rng(7)
    hu = np.round(rng.normal(40.0, 15.0, (60, 64, 64))).astype(np.int16)
    hu[:, 20:28, 24:34] += 1200
    hu[:, 40:50, 20:40] += 1200
    calibration = estimate_calibration(hu)
    assert calibration.source == HOUNSFIELD and not calibration.changes_values()
    assert "No air is in the field of view" in calibration.describe()
    assert calibration.bone_level_hu == BONE_HU
    assert apply_calibration(hu, calibration) is hu
