"""Native-resolution refinement: the network's coarse probability -> a mask that follows the bone.

The network sees each slice at 4 mm per pixel; its probability, brought back to the CT's own grid,
says *where* the mandible is but draws its edge one coarse pixel wide, and it misses thin parts
it cannot resolve. This stage redraws the mask from the CT itself (docs/decisions/130):

1. Edge. Inside a band around the network's mask, the bone pieces of each slice (HU >= the bone level)
   that touch the network's core are kept, clipped to the band, and enclosed marrow and the canal
   are filled. A piece of the network's mask with no bone under it (soft tissue) gives nothing.
2. Follow. From there the mask follows the same bone into the neighbouring slices, the way a
   ramus is labelled by hand, widening at most `reach_slope` mm per mm: the condyles, coronoid
   processes and rami that the coarse mask only touches or misses come back. Where the bone being
   followed suddenly grows (the condyle meeting the skull base, a tooth meeting the maxilla) the
   mask may only shrink into it, so it stops within a few slices. In a slice where the network
   found the jaw, bone it left out (the upper teeth) is not followed into.

    masks = refine_masks(hu, probability, volume.spacing)   # uint8 [n, rows, cols]

The bone level is this scan's own (docs/decisions/202): today's 300 HU, moved to between the soft tissue and
the bone that Otsu's method finds in the network's band when 300 HU is not between them (a CBCT's bone after
calibration can be darker, cupping darkens its middle). `RefineSettings(bone_hu=...)` fixes it instead.

Pass the whole volume: step 2 follows bone from slice to slice, so a batch is refined on its own
and cannot reach beyond itself. Image stacks (no HU), unknown spacing and CTs whose pixels are not
at least twice finer than the network's (`network_mm`; OpenKBP is at 4 mm) are thresholded at
0.5, as without refinement: there the network already saw every pixel.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from core.calibration import BONE_HU, bone_level


@dataclass(frozen=True)
class RefineSettings:
    """Defaults measured on the development head and OpenKBP (docs/decisions/130)."""

    bone_hu: float | None = None      # the bone surface; None: this scan's level in the band (BONE_HU = 300
                                      # where that lies between its soft tissue and bone; the head's label used 300)
    core_probability: float = 0.5     # the network's mask
    band_probability: float = 0.1     # the network leaves room for the mandible above this ...
    band_mm: float = 2.0              # ... and this far beyond it
    reach_slope: float = 0.7          # followed bone widens at most this many mm per mm along the slices
    max_reach_mm: float = 25.0        # and is followed at most this far from a slice with a network mask
    growth_cap: float = 1.25          # followed bone growing faster than this per slice is foreign ...
    leak_ratio: float = 3.0           # ... and so is a piece this much larger than its part within reach
    seen_mm2: float = 50.0            # where the network's mask in a slice is this large, it saw the jaw ...
    follow_probability: float = 0.01  # ... and only bone near where it allows this much is followed
    close_mm: float = 1.0             # gaps this wide in the cortex are closed before marrow is filled
    trust_mm: float = 2.0             # the network's mask deeper inside than this is kept (half its pixel)


def refine_masks(hu: np.ndarray, probability: np.ndarray, spacing: tuple[float, float, float] | None,
                 units: str = "HU", network_mm: float = 4.0, settings: RefineSettings | None = None) -> np.ndarray:
    """uint8 masks [n, rows, cols] from CT values and the network's probability on the same grid.

    `spacing` is (slice, row, col) in mm; `network_mm` the model's millimetres per pixel.
    """
    settings = settings or RefineSettings()
    hu, probability = np.asarray(hu), np.asarray(probability)
    if hu.shape != probability.shape or hu.ndim != 3:
        raise ValueError(f"refine_masks needs hu and probability of one shape [n, rows, cols]; "
                         f"got {hu.shape} and {probability.shape}")
    if units != "HU" or spacing is None or min(spacing) <= 0 or max(spacing[1:]) > network_mm / 2:
        return (probability > settings.core_probability).astype(np.uint8)
    out = np.zeros(hu.shape, dtype=np.uint8)
    box = _box(probability > settings.band_probability, spacing, settings)
    if box is not None:
        if settings.bone_hu is None:
            settings = replace(settings, bone_hu=band_bone_level(hu[box], probability[box], settings))
        out[box] = _refine_box(hu[box], probability[box], spacing, settings)
    return out


def band_bone_level(hu: np.ndarray, probability: np.ndarray, settings: RefineSettings) -> float:
    """The bone level (HU) of the CT inside the network's band (core.calibration.bone_level)."""
    return bone_level(hu[probability > settings.band_probability], default=BONE_HU)


def _box(allowed: np.ndarray, spacing, settings: RefineSettings) -> tuple[slice, slice, slice] | None:
    """The slices, rows and columns refinement can touch: where the network allows mandible, plus reach."""
    where = np.flatnonzero(allowed.any(axis=(1, 2)))
    if where.size == 0:
        return None
    rows = np.flatnonzero(allowed.any(axis=(0, 2)))
    cols = np.flatnonzero(allowed.any(axis=(0, 1)))
    along = int(np.ceil(settings.max_reach_mm / spacing[0]))
    across_mm = settings.band_mm + settings.reach_slope * settings.max_reach_mm
    margin_r, margin_c = int(np.ceil(across_mm / spacing[1])), int(np.ceil(across_mm / spacing[2]))
    n, height, width = allowed.shape
    return (slice(max(0, where[0] - along), min(n, where[-1] + along + 1)),
            slice(max(0, rows[0] - margin_r), min(height, rows[-1] + margin_r + 1)),
            slice(max(0, cols[0] - margin_c), min(width, cols[-1] + margin_c + 1)))


def _disk(radius_mm: float, spacing_rc) -> np.ndarray:
    """Elliptic structuring element of `radius_mm` on a (row, col) grid, at least 3 x 3."""
    ry = max(1, int(round(radius_mm / spacing_rc[0])))
    rx = max(1, int(round(radius_mm / spacing_rc[1])))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rx + 1, 2 * ry + 1))


def _morph(stack: np.ndarray, operation: int, kernel: np.ndarray) -> np.ndarray:
    """Each slice of a boolean stack through one cv2 morphology operation (empty slices stay empty)."""
    out = np.zeros(stack.shape, dtype=bool)
    for k in np.flatnonzero(stack.any(axis=(1, 2))):
        out[k] = cv2.morphologyEx(stack[k].astype(np.uint8), operation, kernel).astype(bool)
    return out


def _label_in_plane(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected pieces of each slice of a boolean stack, numbered 1.. across the stack, and the
    size of each (sizes[0] is unused)."""
    labels = np.zeros(stack.shape, dtype=np.int32)
    sizes = [np.zeros(1, dtype=np.int64)]
    for k in np.flatnonzero(stack.any(axis=(1, 2))):
        found, plane, stats, _ = cv2.connectedComponentsWithStats(stack[k].astype(np.uint8), connectivity=8,
                                                                  ltype=cv2.CV_32S)
        np.add(plane, sum(map(len, sizes)) - 1, out=labels[k], where=plane > 0)
        sizes.append(stats[1:, cv2.CC_STAT_AREA].astype(np.int64))
    return labels, np.concatenate(sizes)


def fill_holes_in_plane(mask: np.ndarray) -> np.ndarray:
    """Each slice [.., rows, cols] with its enclosed background filled (background 4-connected,
    as core.annotation does)."""
    out = np.array(mask, dtype=bool)
    for plane in out.reshape(-1, *out.shape[-2:]):
        rows, cols = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
        if rows.size == 0:
            continue
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        padded = np.pad(plane[window].astype(np.uint8), 1)
        cv2.floodFill(padded, None, (0, 0), 2, flags=4)  # the outside becomes 2; holes stay 0
        plane[window] |= padded[1:-1, 1:-1] == 0
    return out


def _refine_box(hu: np.ndarray, probability: np.ndarray, spacing, settings: RefineSettings) -> np.ndarray:
    bone = hu >= settings.bone_hu
    core = probability > settings.core_probability
    pieces, sizes = _label_in_plane(bone)
    mask = _edge(bone, pieces, len(sizes) - 1, core, probability, spacing, settings)
    return _follow(mask, pieces, sizes, core, _seen(probability, core, spacing, settings), spacing,
                   settings).astype(np.uint8)


def _edge(bone, pieces, count, core, probability, spacing, settings: RefineSettings) -> np.ndarray:
    """Step 1: the bone pieces touching the network's core, clipped to its band, gaps closed, holes
    filled; plus the core's interior, where its bone has a gap or is dark (a metal streak)."""
    touched = np.zeros(count + 1, dtype=bool)
    touched[pieces[core & bone]] = True
    touched[0] = False
    band = _morph(probability > settings.band_probability, cv2.MORPH_DILATE, _disk(settings.band_mm, spacing[1:]))
    mask = _morph(touched[pieces] & band, cv2.MORPH_CLOSE, _disk(settings.close_mm, spacing[1:])) & band
    cores, core_sizes = _label_in_plane(core)
    has_bone = np.zeros(len(core_sizes), dtype=bool)
    has_bone[cores[core & bone]] = True
    has_bone[0] = False
    interior = _morph(core, cv2.MORPH_ERODE, _disk(settings.trust_mm, spacing[1:]))
    return fill_holes_in_plane(mask | (interior & has_bone[cores]))


def _seen(probability, core, spacing, settings: RefineSettings) -> dict[int, np.ndarray]:
    """Slices where the network found the jaw -> where step 2 may add bone in them: only near what
    the network allows (it saw the rest and left it out). Elsewhere step 2 may add bone anywhere."""
    seen = np.flatnonzero(core.sum(axis=(1, 2)) * spacing[1] * spacing[2] >= settings.seen_mm2)
    near = _morph(probability[seen] > settings.follow_probability, cv2.MORPH_DILATE,
                  _disk(settings.band_mm, spacing[1:]))
    return dict(zip(seen.tolist(), near))


def _follow(mask, pieces, sizes, core, seen, spacing, settings: RefineSettings) -> np.ndarray:
    """Sweep up, then down: each slice gains the bone that continues its neighbour's mask."""
    seeded = np.flatnonzero(core.any(axis=(1, 2)))
    if seeded.size == 0:
        return mask
    touch = _disk(spacing[0] / 2, spacing[1:])
    reach = _disk(settings.reach_slope * spacing[0], spacing[1:])
    index = np.arange(len(mask))
    near_seed = np.min(np.abs(index[:, None] - seeded[None, :]), axis=1) * spacing[0] <= settings.max_reach_mm
    for step in (-1, 1):
        for k in (range(len(mask) - 2, -1, -1) if step < 0 else range(1, len(mask))):
            window = _window(mask[k - step], reach.shape) if near_seed[k] else None
            if window is None:
                continue
            candidates = pieces[k][window]
            if k in seen:
                candidates = np.where(seen[k][window], candidates, 0)
            mask[k][window] |= _continue(mask[k - step][window], candidates, sizes, touch, reach, settings)
    return mask


def _window(plane: np.ndarray, kernel_shape) -> tuple[slice, slice] | None:
    """The part of a slice within a kernel's reach of its mask; None when the mask is empty."""
    rows, cols = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
    if rows.size == 0:
        return None
    pad_r, pad_c = kernel_shape[0] // 2 + 1, kernel_shape[1] // 2 + 1
    return (slice(max(0, rows[0] - pad_r), rows[-1] + pad_r + 1), slice(max(0, cols[0] - pad_c), cols[-1] + pad_c + 1))


def _continue(source, pieces, sizes, touch, reach, settings: RefineSettings) -> np.ndarray:
    """The bone (labelled `pieces`) of a window of one slice that continues `source`, the
    neighbour's mask in that window."""
    src = source.astype(np.uint8)
    ids = np.unique(pieces[cv2.dilate(src, touch).astype(bool)])
    ids = ids[ids > 0]
    if ids.size == 0:
        return np.zeros(source.shape, dtype=bool)
    followed = np.isin(pieces, ids)
    result = followed & cv2.dilate(src, reach).astype(bool)
    shrunk = cv2.erode(src, touch).astype(bool)
    if result.sum() > settings.growth_cap * source.sum():
        result = followed & shrunk  # grows too fast to be the same thin part: only shrink into it
    else:  # a piece far larger than its part within reach is other bone: only shrink into that one
        inside = np.bincount(pieces[result], minlength=sizes.size)[ids]
        foreign = ids[sizes[ids] > settings.leak_ratio * np.maximum(inside, 1)]
        if foreign.size:
            is_foreign = np.isin(pieces, foreign)
            result = (result & ~is_foreign) | (is_foreign & shrunk)
    return fill_holes_in_plane(result)
