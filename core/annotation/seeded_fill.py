"""Seeded fill: click in bone to add the connected bone around the click; shift-click to remove.

Adding takes the pixels at or above the HU threshold that are 4-connected to the clicked pixel
inside a disk of `radius` around it, and fills the marrow they enclose. 4-connectivity keeps the
fill from slipping through the diagonal one-pixel contacts where the mandible touches other bone;
the radius keeps it from running along touching bone (the maxilla, the skull base) any further.
Removing takes the labelled region under the click (8-connected, as the overlay draws regions)
inside the same disk.

Both go through the slice's SliceAnnotation as a human edit, so each returns one MaskChange: one
undo step, the same kind the brush and polygon tools produce.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.morphology import fill_holes
from core.annotation.edits import MaskChange
from core.annotation.slice_annotation import SliceAnnotation

_FOUR = ndimage.generate_binary_structure(2, 1)
_EIGHT = np.ones((3, 3), dtype=bool)


def disk(shape: tuple[int, int], row: int, col: int, radius: float, pixel_spacing=(1.0, 1.0)) -> np.ndarray:
    """Pixels whose centres lie within `radius` (units of `pixel_spacing`) of pixel (row, col)."""
    rows = (np.arange(shape[0]) - row)[:, None] * float(pixel_spacing[0])
    cols = (np.arange(shape[1]) - col)[None, :] * float(pixel_spacing[1])
    return rows * rows + cols * cols <= float(radius) ** 2


def bone_region(hu: np.ndarray, row: int, col: int, radius: float, hu_min: float,
                pixel_spacing=(1.0, 1.0)) -> np.ndarray:
    """bool [row, col]: the bone connected to (row, col) within the disk, marrow filled; empty off bone."""
    hu = np.asarray(hu)
    if not _inside(hu.shape, row, col) or hu[row, col] < hu_min:
        return np.zeros(hu.shape, bool)
    candidate = (hu >= hu_min) & disk(hu.shape, row, col, radius, pixel_spacing)
    return fill_holes(_component(candidate, row, col, _FOUR)).astype(bool)


def labelled_region(mask: np.ndarray, row: int, col: int, radius: float, pixel_spacing=(1.0, 1.0)) -> np.ndarray:
    """bool [row, col]: the mask's region under (row, col) within the disk; empty off the mask."""
    mask = np.asarray(mask) > 0
    if not _inside(mask.shape, row, col) or not mask[row, col]:
        return np.zeros(mask.shape, bool)
    candidate = mask & disk(mask.shape, row, col, radius, pixel_spacing)
    return _component(candidate, row, col, _EIGHT)


def add_bone(annotation: SliceAnnotation, hu: np.ndarray, row: int, col: int, radius: float,
             hu_min: float, pixel_spacing=(1.0, 1.0)) -> MaskChange | None:
    """Add the bone around a click to the slice; None when the click is not on bone or adds nothing.

    `radius` is in the units of `pixel_spacing`: millimetres when the CT records its pixel
    spacing; pass (1, 1) to count pixels.
    """
    region = bone_region(hu, row, col, radius, hu_min, pixel_spacing)
    if not region.any():
        return None
    return annotation.set_mask(annotation.mask.astype(bool) | region)


def remove_region(annotation: SliceAnnotation, row: int, col: int, radius: float,
                  pixel_spacing=(1.0, 1.0)) -> MaskChange | None:
    """Remove the labelled region under a click (within the radius); None off the mask."""
    region = labelled_region(annotation.mask, row, col, radius, pixel_spacing)
    if not region.any():
        return None
    return annotation.set_mask(annotation.mask.astype(bool) & ~region)


def _inside(shape: tuple[int, ...], row: int, col: int) -> bool:
    return 0 <= row < shape[0] and 0 <= col < shape[1]


def _component(candidate: np.ndarray, row: int, col: int, structure: np.ndarray) -> np.ndarray:
    labels, _ = ndimage.label(candidate, structure=structure)
    return labels == labels[row, col]
