"""Multi-frame DICOM volumes: one file holds the whole series, its frames described by functional groups.

Enhanced CT, Legacy Converted Enhanced CT and X-Ray 3D Craniofacial (the dental cone-beam CT object)
files keep each frame's plane position, and per frame or shared by all frames its plane orientation,
pixel measures and pixel value transformation, in the Per-frame and Shared Functional Groups
Sequences. `describe_frames` reads them into one `FrameDescription` per frame; core.io.dicom_scan
makes a SliceHeader of each, so everything after the scan (series, order, rescale) treats a frame as
a slice. Any other multi-frame object (ultrasound, secondary capture, classic CT with frames and no
functional groups, MR) is refused with a message that names it.

Sizes are checked before a frame is read (decision 101): the frame count must be a whole number, the
frames must fit the volume limit, and the per-frame groups must describe exactly that many frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import pydicom
from pydicom.uid import UID

from core.errors import InputError
from core.io.limits import check_volume_size, valid_rescale

MULTI_FRAME_VOLUMES = {
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT",
    "1.2.840.10008.5.1.4.1.1.2.2": "Legacy Converted Enhanced CT",
    "1.2.840.10008.5.1.4.1.1.13.1.2": "X-Ray 3D Craniofacial (dental CBCT)",
}
_SUPPORTED = "Enhanced CT, Legacy Converted Enhanced CT and X-Ray 3D Craniofacial (CBCT) files, or single-frame series"

# Functional group macros (tag of the sequence inside a frame's group) and the elements read from them.
_PLANE_POSITION = 0x00209113
_PLANE_ORIENTATION = 0x00209116
_PIXEL_MEASURES = 0x00289110
_PIXEL_VALUE_TRANSFORMATION = 0x00289145
_SHARED_GROUPS = 0x52009229
_PER_FRAME_GROUPS = 0x52009230
_IMAGE_POSITION, _IMAGE_ORIENTATION = 0x00200032, 0x00200037
_PIXEL_SPACING, _SLICE_THICKNESS, _SPACING_BETWEEN = 0x00280030, 0x00180050, 0x00180088
_RESCALE_SLOPE, _RESCALE_INTERCEPT = 0x00281053, 0x00281052


@dataclass(frozen=True)
class FrameDescription:
    """Where one frame lies and how its stored values become CT values (None: not in the file)."""

    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    spacing_between_slices: float | None
    slope: float
    intercept: float


def frame_count(declared: float | None) -> int | str:
    """NumberOfFrames as a count (1 when absent), or why it is no count."""
    if declared is None:
        return 1
    if not float(declared).is_integer() or declared < 1:
        return f"NumberOfFrames {declared:g} is not a count of frames; the file is damaged"
    return int(declared)


def unsupported_kind(sop_class: str | None, frames: int) -> str | None:
    """Why a file of `frames` frames and this SOP class cannot be opened as a volume, or None if it can."""
    if frames == 1 or sop_class in MULTI_FRAME_VOLUMES:
        return None
    name = UID(sop_class).name if sop_class else "an object without a SOP class"
    return (f"a multi-frame {name} file ({frames} frames) is not a CT volume Mandible Studio opens; "
            f"it opens {_SUPPORTED}: export the scan as one of these")


def describe_frames(ds: pydicom.Dataset, frames: int, rows: int, cols: int,
                    top_level: FrameDescription) -> list[FrameDescription] | str:
    """One description per frame from the functional groups, or why the file cannot be read as a volume.

    `top_level` holds the file's own (non-group) values: a writer that put PixelSpacing or the
    rescale at the top level instead of in a group is still read.
    """
    try:
        check_volume_size((frames, rows, cols), "The file")
    except InputError as exc:
        return str(exc)
    try:
        per_frame = ds.get(_PER_FRAME_GROUPS)
        shared_groups = ds.get(_SHARED_GROUPS)
        items = list(per_frame.value) if per_frame is not None and per_frame.value else []
        shared = _merged(shared_groups.value[0], top_level) if shared_groups and shared_groups.value else top_level
        if not items:
            return ("it has no Per-frame Functional Groups Sequence, so where its frames lie is unknown; "
                    "the file is damaged, export the scan again")
        if len(items) != frames:
            return (f"NumberOfFrames says {frames} but the Per-frame Functional Groups describe {len(items)} "
                    "frames; the file is damaged, export the scan again")
        described = [_merged(item, shared) for item in items]
    except Exception as exc:  # pydicom raises many types for damaged sequences
        return f"unreadable functional groups ({exc.__class__.__name__}: {exc})"
    bad = next((d for d in described if not valid_rescale(d.slope, d.intercept)), None)
    if bad is not None:
        return (f"a frame's RescaleSlope {bad.slope:g} with RescaleIntercept {bad.intercept:g} gives no CT values; "
                "the file is damaged, export the scan again")
    return described


def _merged(group: pydicom.Dataset, fallback: FrameDescription) -> FrameDescription:
    """The values one functional group item gives, the fallback's where it gives none."""
    position = _numbers(_macro(group, _PLANE_POSITION), _IMAGE_POSITION, 3)
    orientation = _numbers(_macro(group, _PLANE_ORIENTATION), _IMAGE_ORIENTATION, 6)
    measures = _macro(group, _PIXEL_MEASURES)
    spacing = _numbers(measures, _PIXEL_SPACING, 2)
    thickness = _numbers(measures, _SLICE_THICKNESS, 1)
    between = _numbers(measures, _SPACING_BETWEEN, 1)
    transformation = _macro(group, _PIXEL_VALUE_TRANSFORMATION)
    slope = _numbers(transformation, _RESCALE_SLOPE, 1)
    intercept = _numbers(transformation, _RESCALE_INTERCEPT, 1)
    return FrameDescription(
        position=position or fallback.position, orientation=orientation or fallback.orientation,
        pixel_spacing=spacing or fallback.pixel_spacing,
        slice_thickness=thickness[0] if thickness else fallback.slice_thickness,
        spacing_between_slices=between[0] if between else fallback.spacing_between_slices,
        slope=slope[0] if slope else fallback.slope, intercept=intercept[0] if intercept else fallback.intercept)


def _macro(group: pydicom.Dataset, tag: int) -> pydicom.Dataset | None:
    """The first item of a functional group macro's sequence, or None."""
    element = group.get(tag)
    return element.value[0] if element is not None and element.value else None


def _numbers(item: pydicom.Dataset | None, tag: int, count: int) -> tuple[float, ...] | None:
    """`count` numbers of a decimal element, or None when absent or not numbers."""
    element = item.get(tag) if item is not None else None
    if element is None or element.value is None or element.value == "":
        return None
    value = element.value
    values = list(value) if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count else None
