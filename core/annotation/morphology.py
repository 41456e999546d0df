"""Pixel geometry for editing a slice mask: brush footprints, hole filling, small-island removal.

Coordinates follow Labelme: x is the column, y the row, and the centre of pixel (row r, col c)
is at (x=c, y=r). Foreground is 8-connected (as contours are traced); holes are background
regions 4-connected and not reaching the image border.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

Region = tuple[slice, slice]

_EIGHT = np.ones((3, 3), dtype=bool)


def segment_footprint(x0: float, y0: float, x1: float, y1: float, radius: float,
                      shape: tuple[int, int]) -> tuple[Region, np.ndarray] | None:
    """Pixels whose centres lie within `radius` of the segment (x0,y0)-(x1,y1): a round brush dragged along it.

    A single dab is the segment with both ends equal. The pixel nearest each end is always
    included, so a brush smaller than a pixel still paints. Returns (region, bool footprint of the
    region's shape), or None when the footprint lies outside the image.
    """
    height, width = shape
    radius = max(float(radius), 0.0)
    r0 = max(int(np.floor(min(y0, y1) - radius)), 0)
    r1 = min(int(np.ceil(max(y0, y1) + radius)) + 1, height)
    c0 = max(int(np.floor(min(x0, x1) - radius)), 0)
    c1 = min(int(np.ceil(max(x0, x1) + radius)) + 1, width)
    if r0 >= r1 or c0 >= c1:
        return None
    rows = np.arange(r0, r1, dtype=np.float64)[:, None]
    cols = np.arange(c0, c1, dtype=np.float64)[None, :]
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((cols - x0) * dx + (rows - y0) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros((1, 1))
    dist2 = (cols - (x0 + t * dx)) ** 2 + (rows - (y0 + t * dy)) ** 2
    footprint = dist2 <= radius * radius + 1e-9
    for x, y in ((x0, y0), (x1, y1)):
        r, c = int(round(y)) - r0, int(round(x)) - c0
        if 0 <= r < r1 - r0 and 0 <= c < c1 - c0:
            footprint[r, c] = True
    if not footprint.any():
        return None
    return (slice(r0, r1), slice(c0, c1)), footprint


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every enclosed background region filled (uint8 0/1); background is 4-connected.

    Filled within the mask's bounding box: all background outside it reaches the border, so the result is the
    same as on the whole slice, in a fraction of the time on a large slice with a small mandible. A flood fill
    from the padded box's corner marks the outside; what it does not reach is a hole (scipy's
    binary_fill_holes gives the same, several times slower)."""
    filled = (np.asarray(mask) > 0).astype(np.uint8)
    rows, cols = np.flatnonzero(filled.any(axis=1)), np.flatnonzero(filled.any(axis=0))
    if rows.size:
        box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        padded = np.pad(filled[box], 1)
        cv2.floodFill(padded, None, (0, 0), 2, flags=4)  # the outside becomes 2; holes stay 0
        filled[box] = padded[1:-1, 1:-1] != 2
    return filled


def remove_small_islands(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """The mask without 8-connected foreground islands smaller than `min_pixels` (uint8 0/1)."""
    labels, count = ndimage.label(mask.astype(bool), structure=_EIGHT)
    if count == 0:
        return mask.astype(np.uint8, copy=True)
    sizes = np.bincount(labels.ravel())
    keep = sizes >= int(min_pixels)
    keep[0] = False
    return keep[labels].astype(np.uint8)

