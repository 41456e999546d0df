"""Multi-frame DICOM (issue 19 item 5): Enhanced CT, Legacy Converted Enhanced CT and X-Ray 3D Craniofacial
files load voxel for voxel as the single-frame series they were made from, alone or beside other series.

The files are made at test time from ../shared/data/dicom (and the development head) with highdicom's
legacy converter (tests/support/multiframe.py); the Enhanced CT also shuffles its frames, puts the pixel
measures and the rescale in every frame with a different intercept each, and is RLE compressed.
"""
from __future__ import annotations

import shutil
import threading

import highdicom as hd
import numpy as np
import pydicom
import pytest

from core.errors import Cancelled, InputError
from core.io.dicom import MultipleSeriesError, load_dicom_series, read_file_headers
from core.io.dicom_seg import export_dicom_seg
from core.io.loader import load_volume
from tests.support.paths import SAMPLE_DIR, shared_path
from tests.support.dicom import copy_sample_series
from tests.support.multiframe import XRAY_3D_CRANIOFACIAL, enhanced_ct, legacy_converted, other_multi_frame

SERIES = {"okbp_pt_201": ("data", "dicom", "okbp_pt_201"), "okbp_pt_224_rle": ("data", "dicom", "okbp_pt_224_rle"),
          "cranium": ("data", "cranium", "dicom")}
MAKERS = {"legacy converted": legacy_converted, "enhanced CT": enhanced_ct,
          "X-Ray 3D craniofacial": lambda series, dest: enhanced_ct(series, dest, sop_class=XRAY_3D_CRANIOFACIAL)}


def assert_same_volume(volume, reference):
    assert volume.hu.dtype == reference.hu.dtype
    assert np.array_equal(volume.hu, reference.hu)
    assert np.allclose(volume.spacing, reference.spacing, atol=1e-6)
    assert np.allclose(volume.origin, reference.origin, atol=1e-6)
    assert np.allclose(volume.direction, reference.direction)
    assert volume.spacing_known and volume.warnings == []


@pytest.mark.shared
@pytest.mark.parametrize("series", list(SERIES))
@pytest.mark.parametrize("kind", list(MAKERS))
def test_multi_frame_file_loads_as_its_single_frame_series(tmp_path, series, kind):
    source = shared_path(*SERIES[series])
    reference = load_volume(source)
    path = MAKERS[kind](source, tmp_path / "scan" / "volume.dcm")
    volume = load_volume(path)  # the file, as the user opens it
    assert_same_volume(volume, reference)
    assert volume.units == reference.units == "HU" or kind == "X-Ray 3D craniofacial"
    assert volume.patient.name == reference.patient.name and volume.study_uid == reference.study_uid
    assert_same_volume(load_volume(path.parent), reference)  # and its folder


@pytest.mark.shared
def test_a_folder_with_both_asks_which_series_and_each_loads(tmp_path):
    source = shared_path(*SERIES["okbp_pt_224_rle"])
    folder = tmp_path / "study"
    shutil.copytree(source, folder / "single")
    multi = enhanced_ct(source, folder / "enhanced.dcm")
    with pytest.raises(MultipleSeriesError) as caught:
        load_volume(folder)
    listed = caught.value.series
    assert sorted(s.extent() for s in listed) == ["128 files", "128 slices in 1 multi-frame file"]
    assert all(s.thumbnail is not None and s.thumbnail.std() > 10 for s in listed), "every series shows its CT"
    reference = load_volume(folder / "single")
    for info in listed:
        assert_same_volume(load_volume(folder, series_uid=info.uid), reference)
    # One file opens its own series only, silently (decision 105), whichever kind it is.
    assert_same_volume(load_volume(multi), reference)
    assert_same_volume(load_volume(next((folder / "single").iterdir())), reference)


@pytest.mark.shared
def test_thumbnails_of_single_and_multi_frame_series_are_the_same_picture(tmp_path):
    source = shared_path(*SERIES["okbp_pt_201"])
    legacy_converted(source, tmp_path / "legacy.dcm")
    shutil.copytree(source, tmp_path / "single")
    with pytest.raises(MultipleSeriesError) as caught:
        load_volume(tmp_path)
    single, multi = sorted(caught.value.series, key=lambda s: s.num_frames is not None)
    assert np.array_equal(single.thumbnail, multi.thumbnail)


@pytest.mark.shared
def test_dicom_seg_of_a_multi_frame_ct_references_its_frames(tmp_path):
    source = shared_path(*SERIES["okbp_pt_201"])
    path = enhanced_ct(source, tmp_path / "ct" / "enhanced.dcm")
    volume = load_volume(path)
    labels = (volume.hu > 300).astype(np.uint8)
    seg = hd.seg.segread(export_dicom_seg(tmp_path / "seg.dcm", labels, volume))
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    frames = seg.get_pixels_by_source_frame(
        source_sop_instance_uid=ds.SOPInstanceUID, source_frame_numbers=list(range(1, ds.NumberOfFrames + 1)),
        segment_numbers=[1], assert_missing_frames_are_empty=True)[..., 0]
    # Frame f lies at z of its plane position; the canonical volume has slice 0 most superior.
    z_of_slice = volume.affine_lps()[2, 0] * np.arange(volume.num_slices) + volume.origin[2]
    for number, group in enumerate(ds.PerFrameFunctionalGroupsSequence):
        z = float(group.PlanePositionSequence[0].ImagePositionPatient[2])
        index = int(np.argmin(np.abs(z_of_slice - z)))
        assert np.array_equal(frames[number], labels[index]), f"frame {number + 1}"


def test_frames_take_their_own_geometry_and_rescale_from_the_groups(tmp_path):
    path = enhanced_ct(SAMPLE_DIR, tmp_path / "enhanced.dcm", count=6)
    headers = read_file_headers(path)
    assert [h.frame for h in headers] == list(range(6)) and {h.frames for h in headers} == {6}
    intercepts = {h.intercept for h in headers}
    assert len(intercepts) == 5, "each frame has its own RescaleIntercept"
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    for header, group in zip(headers, ds.PerFrameFunctionalGroupsSequence):
        assert header.position == tuple(float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient)
        assert header.pixel_spacing == tuple(float(v) for v in group.PixelMeasuresSequence[0].PixelSpacing)
    reference = load_volume(copy_sample_series(tmp_path / "single", 6)[0].parent)
    assert_same_volume(load_volume(path), reference)


@pytest.mark.parametrize("sop_class, name", [
    ("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage"),
])
def test_other_multi_frame_kinds_get_a_clear_message(tmp_path, sop_class, name):
    path = other_multi_frame(tmp_path / "two.dcm", sop_class)
    expected = rf"two.dcm cannot be opened: a multi-frame {name} file \(2 frames\) is not a CT volume .* opens " \
               r"Enhanced CT, Legacy Converted Enhanced CT and X-Ray 3D Craniofacial"
    with pytest.raises(InputError, match=expected):
        load_volume(path)
    with pytest.raises(InputError, match=rf"No DICOM image series .*two.dcm: a multi-frame {name}"):
        load_volume(tmp_path)


def test_cancel_after_the_scan_stops_a_compressed_multi_frame_load(tmp_path):
    path = enhanced_ct(SAMPLE_DIR, tmp_path / "enhanced.dcm", count=12)
    cancel = threading.Event()
    messages = []

    def progress(step, total, message):
        messages.append(message)
        if message.startswith("Found"):  # the headers are read: the user cancels before the pixels are
            cancel.set()

    with pytest.raises(Cancelled):
        load_dicom_series(path.parent, cancel=cancel, progress=progress)
    assert messages[-1] == "Found 1 series"
