"""Sane limits on what an input may declare, checked BEFORE anything is allocated (decision 101).

A header is only a claim: a damaged or hostile file can declare a 60000 x 60000 slice or a 2 km
pixel, and allocating what it asks for takes the machine down. Every loader checks the declared
size and geometry here first and refuses with a message that says what was declared and what is
accepted. The limits are far above any CT or CBCT a clinic makes.
"""
from __future__ import annotations

import math

import numpy as np

from core.errors import InputError

# 8192 x 8192 pixels per slice (64 Mpixel, below Pillow's own bomb warning); dental CBCT is about 1000 x 1000.
MAX_SLICE_PIXELS = 8192 * 8192
# 2^30 voxels (1024 slices of 1024 x 1024): 2 GiB as int16, 4 GiB as float32.
MAX_VOLUME_VOXELS = 1024 * 1024 * 1024
# A field of view wider than 5 m, or a voxel of 0 or negative size, is no scan of a body (real files reach 2.3 m).
MAX_FIELD_OF_VIEW_MM = 5000.0
# Patient coordinates further than 100 m from the scanner's origin are damage, not a position.
MAX_POSITION_MM = 1e5
# RescaleSlope / RescaleIntercept beyond this make no CT value (HU run from -1024 to a few 10000).
MAX_RESCALE = 1e6


def check_slice_size(rows: int, cols: int, what: str) -> None:
    """InputError when `what` declares a slice too large (or empty) to be a CT slice."""
    if rows <= 0 or cols <= 0:
        raise InputError(f"{what} declares an empty {rows}x{cols} image; the file is damaged. "
                         "Remove it or open another file.")
    if rows * cols > MAX_SLICE_PIXELS:
        raise InputError(f"{what} declares {rows}x{cols} pixels per slice, more than the "
                         f"{_side(MAX_SLICE_PIXELS)} Mandible Studio opens; the file is damaged or not a CT.")


def check_volume_size(shape: tuple[int, ...], what: str) -> None:
    """InputError when the declared volume has no voxels or more than MAX_VOLUME_VOXELS."""
    voxels = math.prod(int(n) for n in shape)
    if voxels <= 0:
        raise InputError(f"{what} holds no image data (shape {tuple(shape)}); open another file.")
    if voxels > MAX_VOLUME_VOXELS:
        raise InputError(f"{what} declares {' x '.join(str(int(n)) for n in shape)} voxels, more than the "
                         f"{MAX_VOLUME_VOXELS:,} Mandible Studio opens; crop the scan or open a smaller series.")


def valid_spacing(spacing_mm: float, count: int) -> bool:
    """True when `count` voxels of `spacing_mm` make a plausible field of view (finite, > 0, <= 5 m)."""
    return math.isfinite(spacing_mm) and spacing_mm > 0 and spacing_mm * max(count, 1) <= MAX_FIELD_OF_VIEW_MM


def valid_position(position) -> bool:
    return all(math.isfinite(v) and abs(v) <= MAX_POSITION_MM for v in position)


def valid_rescale(slope: float, intercept: float) -> bool:
    return (math.isfinite(slope) and math.isfinite(intercept) and slope != 0
            and abs(slope) <= MAX_RESCALE and abs(intercept) <= MAX_RESCALE)


def finite_values(values: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """(values, warnings): NaN/infinite voxels are reported; a volume without one number is refused.

    Some NaN voxels (a pipeline that marks outside the field of view) are set to the lowest
    finite value with a warning, so the image stays usable; all-NaN is InputError.
    """
    if values.dtype.kind != "f":
        return values, []
    bad = ~np.isfinite(values)
    count = int(bad.sum())
    if not count:
        return values, []
    if count == values.size:
        raise InputError(f"{what} holds no numbers: every voxel is NaN or infinite. The file is damaged; "
                         "export the scan again.")
    low = float(values[~bad].min())
    values = values.copy()
    values[bad] = low
    return values, [f"{count} voxel(s) were NaN or infinite and are shown as {low:g}."]


def _side(pixels: int) -> str:
    side = int(math.isqrt(pixels))
    return f"{side}x{side}"
