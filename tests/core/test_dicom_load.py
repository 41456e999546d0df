"""DICOM series load to exactly the CT the NIfTI ground truth holds, in canonical orientation."""
from __future__ import annotations

import shutil
import threading

import cv2

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from core.errors import Cancelled
from core.io.dicom import load_dicom_series, scan_dicom_folder
from core.io.loader import describe_input, load_volume
from core.io.nifti import load_nifti_labels, load_nifti_volume
from tests.support.dicom import copy_sample_series, rewrite_uncompressed
from tests.support.paths import SAMPLE_DIR, shared_path

CANONICAL_DIRECTION = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


def _truth(case: str):
    return load_nifti_volume(shared_path("data", "openkbp", "validation", "imagesTr", f"{case}_0000.nii.gz"))


@pytest.mark.shared
@pytest.mark.parametrize("folder, case", [("okbp_pt_201", "okbp_pt_201"), ("okbp_pt_224_rle", "okbp_pt_224")])
def test_shared_series_equal_nifti_ground_truth(folder, case):
    truth = _truth(case)
    volume = load_dicom_series(shared_path("data", "dicom", folder))
    assert volume.hu.dtype == np.int16
    assert np.array_equal(volume.hu, truth.hu)
    assert np.allclose(volume.spacing, truth.spacing, atol=1e-4)
    assert np.allclose(volume.origin, truth.origin, atol=1e-3)
    assert np.allclose(volume.direction, CANONICAL_DIRECTION)
    assert volume.units == "HU" and volume.warnings == []
    assert volume.name == "HEAD CT"


@pytest.mark.shared
def test_bundled_sample_equals_shared_nifti():
    truth = _truth("okbp_pt_224")
    volume = load_volume(SAMPLE_DIR)
    assert np.array_equal(volume.hu, truth.hu)
    assert volume.warnings == []  # ATTRIBUTION.md is not reported as a damaged DICOM file


def test_bundled_sample_and_its_label_show_a_mandible():
    volume = load_volume(SAMPLE_DIR)
    labels = load_nifti_labels(SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz", volume)
    assert volume.shape == labels.shape == (128, 128, 128)
    assert volume.spacing == pytest.approx((2.5, 3.906, 3.906), abs=1e-3)
    mandible = volume.hu[labels == 1]
    assert 500 < mandible.size and np.median(mandible) > 200  # bone, not soft tissue
    # Canonical: the mandible is anterior (top half of rows) and below the skull top (not slice 0).
    slices, rows, _ = np.nonzero(labels)
    assert rows.mean() < 64 and slices.min() > 0


def test_sop_uids_follow_canonical_slice_order():
    volume = load_volume(SAMPLE_DIR)
    z_by_uid = {}
    for path in SAMPLE_DIR.glob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        z_by_uid[ds.SOPInstanceUID] = float(ds.ImagePositionPatient[2])
    z = [z_by_uid[uid] for uid in volume.sop_uids]
    assert len(z) == 128 and all(a > b for a, b in zip(z, z[1:]))  # slice 0 most superior


def test_scan_lists_series_and_skips_non_dicom_files():
    scan = scan_dicom_folder(SAMPLE_DIR)
    assert len(scan.series) == 1
    info = scan.series[0]
    assert (info.num_files, info.rows, info.cols, info.modality) == (128, 128, 128, "CT")
    assert [p.name for p, _ in scan.skipped] == ["ATTRIBUTION.md"]


@pytest.mark.parametrize("name", ["CT_small.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm", "693_J2KI.dcm",
                                  "MR_small_jpeg_ls_lossless.dcm", "JPGExtended.dcm", "MR_small_implicit.dcm"])
def test_pydicom_test_files_load_through_the_folder_loader(tmp_path, name):
    source = get_testdata_file(name)
    shutil.copy(source, tmp_path / name)
    assert describe_input(tmp_path) == "dicom"
    volume = load_volume(tmp_path)
    ds = pydicom.dcmread(source)
    expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    assert volume.shape == (1, ds.Rows, ds.Columns)
    assert np.array_equal(volume.hu[0], expected)
    assert volume.units == ("HU" if ds.Modality == "CT" else "display")
    assert volume.spacing[1:] == pytest.approx([float(v) for v in ds.PixelSpacing])


def test_jpeg_baseline_series_decodes(tmp_path):
    """8-bit JPEG baseline slices (as some viewers export them) decode like any JPEG decoder would."""
    expected = []
    for index, path in enumerate(sorted(SAMPLE_DIR.glob("IM*.dcm"))[40:43]):
        ds = pydicom.dcmread(path)
        grey = np.clip((ds.pixel_array.astype(np.int32) - 524) * 255 // 1800, 0, 255).astype(np.uint8)
        encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        expected.append(cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_GRAYSCALE).astype(int))
        ds.PixelData = encapsulate([encoded])
        ds["PixelData"].VR = "OB"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.RescaleIntercept = 8, 8, 7, 0
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.save_as(tmp_path / f"{index}.dcm", enforce_file_format=True)
    volume = load_dicom_series(tmp_path)
    assert volume.shape == (3, 128, 128) and volume.warnings == []
    assert np.abs(volume.hu.astype(int) - np.stack(expected)).max() <= 2


def test_single_dicom_file_opens_its_series(tmp_path):
    shutil.copytree(SAMPLE_DIR, tmp_path / "case")
    volume = load_volume(tmp_path / "case" / "IM00007.dcm")
    assert volume.shape == (128, 128, 128)


def test_one_file_opens_its_series_without_a_word_about_the_rest_of_its_folder(tmp_path):
    """Issue 13 item 5: other series, damaged files and subfolders beside the file are not the user's choice."""
    files = copy_sample_series(tmp_path, 5)
    other = copy_sample_series(tmp_path / "other", 2)
    for path in other:
        rewrite_uncompressed(path, edit=lambda ds: setattr(ds, "SeriesInstanceUID", "1.2.3.4"))
        shutil.move(path, tmp_path / f"other-{path.name}")
    copy_sample_series(tmp_path / "copy", 5)  # the same slices again, in a subfolder
    (tmp_path / "noise.dcm").write_bytes(b"\0" * 300)
    volume = load_volume(files[2])
    assert volume.shape == (5, 128, 128) and volume.warnings == []
    ct_small = load_volume(get_testdata_file("CT_small.dcm"))  # among the 80-odd files pydicom ships
    assert ct_small.shape == (1, 128, 128) and ct_small.warnings == []


def test_progress_is_reported_and_cancel_stops_the_load():
    steps = []
    load_dicom_series(SAMPLE_DIR, progress=lambda step, total, message: steps.append((step, total)))
    assert steps and steps[-1][0] <= steps[-1][1]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        load_dicom_series(SAMPLE_DIR, cancel=cancel)


def test_slices_decoded_in_file_order_are_put_in_slice_order_in_place_around_failed_files():
    """The series is decoded straight into one volume in file order, then moved into slice order without a second
    volume: rows of files that failed are dropped, every other slice lands where its position says."""
    from core.io.dicom import _in_order

    files = np.arange(7, dtype=np.int16)[:, None, None] * np.ones((7, 2, 3), np.int16)  # row i holds file i
    decoded = [0, 1, 3, 4, 5, 6]  # file 2 failed
    order = [5, 0, 6, 3, 1, 4]  # by position: file 5 is the top slice, ...
    volume = _in_order(files, decoded, order)
    assert volume.shape == (6, 2, 3) and np.shares_memory(volume, files)
    assert [int(plane[0, 0]) for plane in volume] == order
