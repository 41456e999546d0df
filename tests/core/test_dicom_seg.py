"""DICOM SEG over the source series: references it, frames equal the mask, refuses non-DICOM CTs."""
from __future__ import annotations

import shutil

import highdicom as hd
import numpy as np
import pydicom
import pytest

from core.errors import ExportError
from core.io.dicom import load_dicom_series
from core.io.dicom_seg import export_dicom_seg
from core.io.nifti import load_nifti_labels, load_nifti_volume
from tests.support.paths import shared_path
from tests.support.paths import validation_label_path


def test_seg_references_the_series_and_its_frames_equal_the_mask(dicom_case, tmp_path):
    volume, labels = dicom_case
    path = export_dicom_seg(tmp_path / "mandible_seg.dcm", labels, volume)
    seg = hd.seg.segread(path)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == volume.series_uid
    assert seg.StudyInstanceUID == volume.study_uid
    assert seg.FrameOfReferenceUID == volume.frame_of_reference_uid
    assert seg.SegmentSequence[0].SegmentLabel == "Mandible"
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=volume.sop_uids, segment_numbers=[1])
    assert np.array_equal(frames[..., 0], labels)
    # only slices with mandible are stored, each pointing at its CT image
    assert seg.NumberOfFrames == int(labels.any(axis=(1, 2)).sum())
    raw = pydicom.dcmread(path)
    assert raw.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"


def test_seg_of_a_shuffled_copy_still_matches(dicom_case, tmp_path):
    """Source files are found by SOP Instance UID, not by name or order."""
    volume, labels = dicom_case
    copy = tmp_path / "series"
    shutil.copytree(volume.source, copy)
    (copy / "README.txt").write_text("not DICOM")
    reloaded = load_dicom_series(copy)
    path = export_dicom_seg(tmp_path / "seg.dcm", labels, reloaded)
    seg = hd.seg.segread(path)
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=reloaded.sop_uids, segment_numbers=[1])
    assert np.array_equal(frames[..., 0], labels)


def test_nifti_ct_cannot_get_a_dicom_seg(tmp_path):
    volume = load_nifti_volume(shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz"))
    labels = load_nifti_labels(validation_label_path("okbp_pt_224"), volume)
    with pytest.raises(ExportError, match="loaded from a NIfTI file; open the original DICOM folder"):
        export_dicom_seg(tmp_path / "seg.dcm", labels, volume)
    assert not any(tmp_path.iterdir())


def test_missing_source_files_and_bad_paths_are_reported(dicom_case, tmp_path):
    volume, labels = dicom_case
    copy = tmp_path / "series"
    shutil.copytree(volume.source, copy)
    reloaded = load_dicom_series(copy)
    next(p for p in sorted(copy.iterdir())).unlink()
    with pytest.raises(ExportError, match="1 of the CT's 128 DICOM files are missing"):
        export_dicom_seg(tmp_path / "seg.dcm", labels, reloaded)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_dicom_seg(blocker / "seg.dcm", labels, volume)
    with pytest.raises(ExportError, match="empty"):
        export_dicom_seg(tmp_path / "seg.dcm", np.zeros_like(labels), volume)
