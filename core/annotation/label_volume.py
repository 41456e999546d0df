"""Stack per-slice mandible masks into a 3-D label volume on the CT's own geometry.

The label volume has the Volume's canonical shape [slice, row, col], so the
Volume's affine (spacing, slice positions, orientation) is its geometry too.
Slices with no annotation between the first and the last annotated slice are
gaps; they can be filled by interpolating the signed distance of the two
neighbouring annotated slices.
"""
from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.annotation.slice_status import SliceStatus
from core.errors import ExportError
from core.volume import Volume

log = logging.getLogger(__name__)

# Slice statuses a user may choose to export.
EXPORTABLE_STATUSES = (SliceStatus.PREDICTED, SliceStatus.EDITED, SliceStatus.REVIEWED, SliceStatus.INTERPOLATED,
                       SliceStatus.PROPAGATED)
# What both doors (the app's exports and `main.py export`) export unless told otherwise: every slice with a
# mask, whoever made it, as the user sees the mandible on screen.
DEFAULT_EXPORT_STATUSES = EXPORTABLE_STATUSES


@dataclass(frozen=True)
class LabelAssembly:
    """A label volume (uint8 0/1, [slice, row, col]) and what went into it."""

    labels: np.ndarray
    used_slices: tuple[int, ...]
    gaps: tuple[int, ...]
    filled: tuple[int, ...]


def require_geometry(volume: Volume) -> None:
    """Raise ExportError unless the Volume knows its voxel size in millimetres."""
    spacing = np.asarray(volume.spacing if volume.spacing is not None else [np.nan] * 3, float)
    if spacing.shape != (3,) or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ExportError(
            f"'{volume.name}' has no usable voxel spacing ({volume.spacing}); a mesh in millimetres needs "
            "the CT as a DICOM series or a NIfTI file that records pixel spacing and slice positions")
    if not volume.spacing_known:
        raise ExportError(
            f"'{volume.name}' has no spacing information (1 mm was assumed); a mesh or label volume in "
            "millimetres would have the wrong size. Open the CT as a DICOM series or NIfTI file that "
            "records pixel spacing and slice positions")


def require_labels(labels: np.ndarray, volume: Volume) -> np.ndarray:
    """The label volume as uint8 0/1; raise ExportError if it is empty or the wrong shape."""
    labels = np.asarray(labels)
    labelled_box(labels, volume)  # the shape and something to export, without a copy
    if labels.dtype == np.uint8 and labels.max() <= 1:
        return labels  # already 0/1: no second label volume
    return (labels > 0).astype(np.uint8)


def labelled_box(labels: np.ndarray, volume: Volume | None = None) -> tuple[slice, slice, slice]:
    """The bounding box of the non-zero voxels of `labels` [slice, row, col], found without a copy of the volume;
    ExportError when they are none or (given `volume`) the shape is not the CT's."""
    labels = np.asarray(labels)
    if volume is not None and labels.shape != volume.shape:
        raise ExportError(f"the labels have shape {labels.shape} but the CT '{volume.name}' has {volume.shape}; "
                          "choose labels made for this CT")
    extent = [np.flatnonzero(labels.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1))]
    if extent[0].size == 0:
        name = f" of '{volume.name}'" if volume is not None else ""
        raise ExportError(f"the mandible mask{name} is empty; annotate or predict some slices before exporting")
    return tuple(slice(int(e[0]), int(e[-1]) + 1) for e in extent)  # type: ignore[return-value]


def assemble_label_volume(volume: Volume, masks: Mapping[int, np.ndarray],
                          statuses: Mapping[int, SliceStatus] | None = None,
                          include: Collection[SliceStatus] | None = None,
                          fill_gaps: bool = False) -> LabelAssembly:
    """Stack masks {slice index: [row, col] mask} whose status is in `include` (default: all given).

    A slice without a status in `statuses` is used only when `include` is None.
    """
    labels = np.zeros(volume.shape, np.uint8)
    wanted = None if include is None else set(include)
    used = []
    for index in sorted(masks):
        if not 0 <= index < volume.num_slices:
            raise ExportError(f"slice {index + 1} is outside the CT '{volume.name}' (1..{volume.num_slices})")
        if wanted is not None and (statuses is None or statuses.get(index) not in wanted):
            continue
        mask = np.asarray(masks[index])
        if mask.shape != volume.shape[1:]:
            raise ExportError(f"the mask of slice {index + 1} is {mask.shape}, the CT slice is {volume.shape[1:]}")
        labels[index] = mask > 0
        used.append(index)
    gaps = find_gaps(labels)
    filled: tuple[int, ...] = ()
    if fill_gaps and gaps:
        labels = fill_gap_slices(labels, volume.spacing[1:])
        filled = tuple(g for g in gaps if labels[g].any())
    return LabelAssembly(labels, tuple(used), tuple(gaps), filled)


def find_gaps(labels: np.ndarray) -> list[int]:
    """Empty slices between the first and the last slice that has any mandible."""
    present = np.flatnonzero(labels.reshape(labels.shape[0], -1).any(axis=1))
    if present.size == 0:
        return []
    inside = np.arange(present[0], present[-1] + 1)
    return [int(i) for i in inside if not labels[i].any()]


def slice_ranges(indices: Collection[int]) -> str:
    """'4-6, 10' for indexes [3, 4, 5, 9]: how gaps are shown to the user, as slice numbers counted from 1."""
    spans: list[list[int]] = []
    for index in sorted(i + 1 for i in indices):
        if spans and index == spans[-1][1] + 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in spans)


def fill_gap_slices(labels: np.ndarray, pixel_spacing=(1.0, 1.0)) -> np.ndarray:
    """A copy of `labels` whose gap slices interpolate the signed distance of their neighbours."""
    out = labels.copy()
    present = np.flatnonzero(labels.reshape(labels.shape[0], -1).any(axis=1))
    for below, above in zip(present[:-1], present[1:]):
        if above - below < 2:
            continue
        near, far = _signed_distance(labels[below], pixel_spacing), _signed_distance(labels[above], pixel_spacing)
        for index in range(below + 1, above):
            t = (index - below) / (above - below)
            out[index] = ((1 - t) * near + t * far) > 0
        log.info("filled slices %d..%d between annotated slices %d and %d", below + 2, above, below + 1, above + 1)
    return out


def _signed_distance(mask: np.ndarray, pixel_spacing) -> np.ndarray:
    """Millimetres to the mask boundary: positive inside, negative outside."""
    inside = mask > 0
    return (ndimage.distance_transform_edt(inside, sampling=pixel_spacing)
            - ndimage.distance_transform_edt(~inside, sampling=pixel_spacing))
