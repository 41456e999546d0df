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
and cannot reach beyond itself. Memory follows the box refinement can reach, not the volume: slices are
read, labelled and refined one at a time, and `refine_region` returns only the box's mask (issue 22). Image stacks (no HU), unknown spacing and CTs whose pixels are not
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


Box = tuple[slice, slice, slice]


def refinable(units: str, spacing, network_mm: float) -> bool:
    """True when refinement redraws the mask: HU, a known spacing, pixels at least twice finer than the network's."""
    return units == "HU" and spacing is not None and min(spacing) > 0 and max(spacing[1:]) <= network_mm / 2


def refine_masks(hu: np.ndarray, probability, spacing: tuple[float, float, float] | None,
                 units: str = "HU", network_mm: float = 4.0, settings: RefineSettings | None = None) -> np.ndarray:
    """uint8 masks [n, rows, cols] from CT values and the network's probability on the same grid.

    `spacing` is (slice, row, col) in mm; `network_mm` the model's millimetres per pixel. `probability` is an
    array, or anything with `.shape` whose `[k]` gives slice k (core.inference.slice_crops.SliceCrops).
    """
    out = np.zeros(np.shape(hu), dtype=np.uint8)
    region = refine_region(hu, probability, spacing, units, network_mm, settings)
    if region is not None:
        out[region[0]] = region[1]
    return out


def refine_region(hu: np.ndarray, probability, spacing: tuple[float, float, float] | None, units: str = "HU",
                  network_mm: float = 4.0, settings: RefineSettings | None = None) -> tuple[Box, np.ndarray] | None:
    """What `refine_masks` gives, only where it can be non-zero: (box, uint8 mask of the box), None when empty.

    Memory follows the box, not the volume: each slice is read, labelled and refined on its own (the
    slice-to-slice step needs only the neighbour's mask), so nothing of the volume's size is allocated."""
    settings = settings or RefineSettings()
    if np.shape(hu) != tuple(probability.shape) or len(np.shape(hu)) != 3:
        raise ValueError(f"refine_masks needs hu and probability of one shape [n, rows, cols]; "
                         f"got {np.shape(hu)} and {tuple(probability.shape)}")
    if not refinable(units, spacing, network_mm):
        box = _box(probability, settings.core_probability, None, settings)
        if box is None:
            return None
        return box[0], np.stack([probability[k][box[0][1:]] > settings.core_probability
                                 for k in range(box[0][0].start, box[0][0].stop)]).view(np.uint8)
    found = _box(probability, settings.band_probability, spacing, settings)
    if found is None:
        return None
    box, seeded = found
    if settings.bone_hu is None:
        settings = replace(settings, bone_hu=_box_bone_level(hu, probability, box, settings))
    return box, _refine_box(hu, probability, box, seeded, spacing, settings).view(np.uint8)


def band_bone_level(hu: np.ndarray, probability: np.ndarray, settings: RefineSettings | None = None) -> float:
    """The bone level (HU) of the CT inside the network's band (core.calibration.bone_level): arrays of one shape,
    a slice (mask_confidence's level) or a run."""
    settings = settings or RefineSettings()
    return bone_level(np.asarray(hu)[np.asarray(probability) > settings.band_probability], default=BONE_HU)


def _box_bone_level(hu, probability, box: Box, settings: RefineSettings) -> float:
    """`band_bone_level` over the box, read a slice at a time (only the band's values are gathered)."""
    band = [np.asarray(hu[k][box[1:]])[np.asarray(probability[k][box[1:]]) > settings.band_probability]
            for k in range(box[0].start, box[0].stop)]
    return bone_level(np.concatenate(band), default=BONE_HU)


def _box(probability, threshold: float, spacing, settings: RefineSettings) -> tuple[Box, np.ndarray] | None:
    """The slices, rows and columns refinement can touch: where the probability exceeds `threshold`, plus the
    reach of the slice-to-slice step when `spacing` is given; and the slices where the network found mandible
    (above core_probability), counted from the box's first slice."""
    n, height, width = probability.shape
    found, seeded, low, high = [], [], [height, width], [-1, -1]
    for k in range(n):
        plane = probability[k]
        allowed = plane > threshold
        rows = np.flatnonzero(allowed.any(axis=1))
        if rows.size == 0:
            continue
        cols = np.flatnonzero(allowed.any(axis=0))
        found.append(k)
        low = [min(low[0], rows[0]), min(low[1], cols[0])]
        high = [max(high[0], rows[-1]), max(high[1], cols[-1])]
        if (plane[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] > settings.core_probability).any():
            seeded.append(k)
    if not found:
        return None
    along = margin_r = margin_c = 0
    if spacing is not None:
        along = int(np.ceil(settings.max_reach_mm / spacing[0]))
        across_mm = settings.band_mm + settings.reach_slope * settings.max_reach_mm
        margin_r, margin_c = int(np.ceil(across_mm / spacing[1])), int(np.ceil(across_mm / spacing[2]))
    box = (slice(max(0, found[0] - along), min(n, found[-1] + along + 1)),
           slice(max(0, low[0] - margin_r), min(height, high[0] + margin_r + 1)),
           slice(max(0, low[1] - margin_c), min(width, high[1] + margin_c + 1)))
    return box, np.asarray(seeded, dtype=np.int64) - box[0].start


def _disk(radius_mm: float, spacing_rc) -> np.ndarray:
    """Elliptic structuring element of `radius_mm` on a (row, col) grid, at least 3 x 3."""
    ry = max(1, int(round(radius_mm / spacing_rc[0])))
    rx = max(1, int(round(radius_mm / spacing_rc[1])))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rx + 1, 2 * ry + 1))


def _morph(plane: np.ndarray, operation: int, kernel: np.ndarray) -> np.ndarray:
    """A boolean slice through one cv2 morphology operation (an empty slice stays empty)."""
    if not plane.any():
        return np.zeros(plane.shape, dtype=bool)
    return cv2.morphologyEx(plane.astype(np.uint8), operation, kernel).astype(bool)


def _label(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected pieces of a boolean slice, numbered 1.., and the size of each (sizes[0] is unused)."""
    if not plane.any():
        return np.zeros(plane.shape, dtype=np.int32), np.zeros(1, dtype=np.int64)
    _, pieces, stats, _ = cv2.connectedComponentsWithStats(plane.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    sizes = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    sizes[0] = 0
    return pieces, sizes


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


class _Slices:
    """The box's slices as refinement reads them, one at a time: CT values, probability, bone and its pieces."""

    def __init__(self, hu, probability, box: Box, spacing, settings: RefineSettings) -> None:
        self.hu, self.probability, self.box, self.settings = hu, probability, box, settings
        self.first, self.spacing = box[0].start, spacing
        self.band_disk = _disk(settings.band_mm, spacing[1:])

    def probability_at(self, k: int) -> np.ndarray:
        return np.asarray(self.probability[self.first + k][self.box[1:]], dtype=np.float32)

    def bone_at(self, k: int) -> np.ndarray:
        return np.asarray(self.hu[self.first + k][self.box[1:]]) >= self.settings.bone_hu

    def seen_at(self, core: np.ndarray, probability: np.ndarray) -> np.ndarray | None:
        """Where the slice-to-slice step may add bone in a slice where the network found the jaw: only near
        what the network allows (it saw the rest and left it out); None where the network did not find it."""
        if core.sum() * self.spacing[1] * self.spacing[2] < self.settings.seen_mm2:
            return None
        return _morph(probability > self.settings.follow_probability, cv2.MORPH_DILATE, self.band_disk)


def _refine_box(hu, probability, box: Box, seeded: np.ndarray, spacing, settings: RefineSettings) -> np.ndarray:
    """The refined mask of the box (bool): step 1 on each slice and the upward sweep of step 2 in one pass from
    the last slice to the first, then the downward sweep of step 2."""
    slices = _Slices(hu, probability, box, spacing, settings)
    count = box[0].stop - box[0].start
    mask = np.zeros((count, box[1].stop - box[1].start, box[2].stop - box[2].start), dtype=bool)
    near_seed = np.zeros(count, dtype=bool)
    if seeded.size:
        index = np.arange(count)
        near_seed = np.min(np.abs(index[:, None] - seeded[None, :]), axis=1) * spacing[0] <= settings.max_reach_mm
    step = _Follow(spacing, settings)
    for k in range(count - 1, -1, -1):
        probability_k = slices.probability_at(k)
        bone = slices.bone_at(k)
        pieces, sizes = _label(bone)
        core = probability_k > settings.core_probability
        mask[k] = _edge(bone, pieces, sizes.size - 1, core, probability_k, spacing, settings)
        if k < count - 1 and near_seed[k]:
            step.extend(mask[k], mask[k + 1], pieces, sizes, slices.seen_at(core, probability_k))
    for k in range(1, count):
        if near_seed[k] and mask[k - 1].any():
            probability_k = slices.probability_at(k)
            pieces, sizes = _label(slices.bone_at(k))
            step.extend(mask[k], mask[k - 1], pieces, sizes,
                        slices.seen_at(probability_k > settings.core_probability, probability_k))
    return mask


def _edge(bone, pieces, count, core, probability, spacing, settings: RefineSettings) -> np.ndarray:
    """Step 1 on one slice: the bone pieces touching the network's core, clipped to its band, gaps closed, holes
    filled; plus the core's interior, where its bone has a gap or is dark (a metal streak)."""
    touched = np.zeros(count + 1, dtype=bool)
    touched[pieces[core & bone]] = True
    touched[0] = False
    band = _morph(probability > settings.band_probability, cv2.MORPH_DILATE, _disk(settings.band_mm, spacing[1:]))
    mask = _morph(touched[pieces] & band, cv2.MORPH_CLOSE, _disk(settings.close_mm, spacing[1:])) & band
    cores, core_sizes = _label(core)
    has_bone = np.zeros(len(core_sizes), dtype=bool)
    has_bone[cores[core & bone]] = True
    has_bone[0] = False
    interior = _morph(core, cv2.MORPH_ERODE, _disk(settings.trust_mm, spacing[1:]))
    return fill_holes_in_plane(mask | (interior & has_bone[cores]))


class _Follow:
    """Step 2 for one slice: it gains the bone that continues its neighbour's mask."""

    def __init__(self, spacing, settings: RefineSettings) -> None:
        self.settings = settings
        self.touch = _disk(spacing[0] / 2, spacing[1:])
        self.reach = _disk(settings.reach_slope * spacing[0], spacing[1:])

    def extend(self, plane: np.ndarray, neighbour: np.ndarray, pieces: np.ndarray, sizes: np.ndarray,
               seen: np.ndarray | None) -> None:
        """plane |= the bone of `pieces` that continues `neighbour` (only within `seen` when given)."""
        window = _window(neighbour, self.reach.shape)
        if window is None:
            return
        candidates = pieces[window]
        if seen is not None:
            candidates = np.where(seen[window], candidates, 0)
        plane[window] |= _continue(neighbour[window], candidates, sizes, self.touch, self.reach, self.settings)


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
