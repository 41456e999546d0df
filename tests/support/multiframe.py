"""Multi-frame DICOM files made at test time from single-frame series, with highdicom's legacy converter.

`legacy_converted` is highdicom's Legacy Converted Enhanced CT of a series, as a PACS or a converter
makes it. `enhanced_ct` turns that into an Enhanced CT the way scanners write one and a reader must
still follow: frames out of spatial order, pixel measures and the rescale per frame instead of shared
(each frame with its own RescaleIntercept, stored values shifted to match), RLE compressed.
"""
from __future__ import annotations

import copy
from pathlib import Path

import highdicom
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import RLELossless, generate_uid

from tests.support.paths import SAMPLE_DIR

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
XRAY_3D_CRANIOFACIAL = "1.2.840.10008.5.1.4.1.1.13.1.2"


def series_datasets(series: Path, count: int | None = None) -> list[Dataset]:
    """The files of a single-frame series (the first `count` by name), read whole."""
    files = sorted(p for p in Path(series).iterdir() if p.is_file() and not p.name.endswith(".md"))
    return [pydicom.dcmread(f) for f in files[:count]]


def legacy_converted_dataset(series: Path, count: int | None = None) -> Dataset:
    """highdicom's Legacy Converted Enhanced CT of a series (a new series UID, the source's study and frame)."""
    image = highdicom.legacy.LegacyConvertedEnhancedCTImage(
        legacy_datasets=series_datasets(series, count), series_instance_uid=highdicom.UID(), series_number=99,
        sop_instance_uid=highdicom.UID(), instance_number=1)
    return pydicom.dcmread(pydicom.filebase.DicomBytesIO(_bytes_of(image)))


def _bytes_of(ds: Dataset) -> bytes:
    buffer = pydicom.filebase.DicomBytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def legacy_converted(series: Path, dest: Path, count: int | None = None) -> Path:
    """Write the Legacy Converted Enhanced CT of `series` to `dest`; returns `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    legacy_converted_dataset(series, count).save_as(dest, enforce_file_format=True)
    return dest


def enhanced_ct(series: Path, dest: Path, count: int | None = None, sop_class: str = ENHANCED_CT) -> Path:
    """An Enhanced CT of `series`: shuffled frames, per-frame pixel measures and rescale, RLE pixel data."""
    ds = legacy_converted_dataset(series, count)
    shared = ds.SharedFunctionalGroupsSequence[0]
    measures, transformation = shared.PixelMeasuresSequence, shared.PixelValueTransformationSequence
    del shared.PixelMeasuresSequence, shared.PixelValueTransformationSequence
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns).astype(np.int32)
    order = np.random.default_rng(7).permutation(len(frames))
    base = float(transformation[0].RescaleIntercept)
    groups, pixels = [], []
    for new_index, old_index in enumerate(order):
        group = ds.PerFrameFunctionalGroupsSequence[int(old_index)]
        shift = new_index % 5  # stored value + intercept stays the same HU
        group.PixelMeasuresSequence = Sequence([copy.deepcopy(measures[0])])
        group.PixelValueTransformationSequence = Sequence([copy.deepcopy(transformation[0])])
        group.PixelValueTransformationSequence[0].RescaleIntercept = base - shift
        groups.append(group)
        pixels.append(frames[old_index] + shift)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    stack = np.stack(pixels)
    assert stack.max() < 2**16 and stack.min() >= 0
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.compress(RLELossless, stack.astype(np.uint16), encoding_plugin="pydicom")
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest, enforce_file_format=True)
    return dest


def other_multi_frame(dest: Path, sop_class: str) -> Path:
    """A two-frame file of `sop_class` without functional groups (as ultrasound or secondary capture are)."""
    ds = legacy_converted_dataset(SAMPLE_DIR, 2)
    for keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        delattr(ds, keyword)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SeriesInstanceUID = generate_uid()
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest, enforce_file_format=True)
    return dest
