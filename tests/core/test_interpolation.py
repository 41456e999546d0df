"""Shape-based interpolation between two edited slices: holes kept, splits and moves handled, real jaw."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.interpolation import interpolate_between_anchors, interpolate_gap

SHAPE = (64, 64)


def _disk(cy: float, cx: float, radius: float) -> np.ndarray:
    rows, cols = np.mgrid[:SHAPE[0], :SHAPE[1]]
    return ((rows - cy) ** 2 + (cols - cx) ** 2 <= radius ** 2).astype(np.uint8)


def _regions(mask: np.ndarray) -> int:
    return ndimage.label(mask, structure=np.ones((3, 3)))[1]


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return 2.0 * (a & b).sum() / max(a.sum() + b.sum(), 1)


def test_fills_exactly_the_slices_between_and_grows_steadily():
    small, large = _disk(32, 32, 6), _disk(32, 32, 26)
    filled = interpolate_gap(40, small, 50, large)
    assert sorted(filled) == list(range(41, 50))
    areas = [int(filled[k].sum()) for k in range(41, 50)]
    assert small.sum() < areas[0] and areas[-1] < large.sum()
    assert areas == sorted(areas) and len(set(areas)) == len(areas)


def test_a_hole_present_at_both_ends_stays_a_hole():
    ring_a = _disk(32, 32, 20) - _disk(32, 32, 7)
    ring_b = _disk(34, 30, 18) - _disk(34, 30, 6)
    filled = interpolate_gap(40, ring_a, 50, ring_b)
    for k, mask in filled.items():
        assert mask[33, 31] == 0, f"slice {k} lost the hole"
        assert ndimage.binary_fill_holes(mask).sum() > mask.sum() + 50, f"slice {k} has no hole"


def test_one_blob_splitting_into_two_narrows_and_parts():
    one = np.zeros(SHAPE, np.uint8)
    one[24:40, 12:52] = 1
    two = np.zeros(SHAPE, np.uint8)
    two[24:40, 8:24] = 1
    two[24:40, 40:56] = 1
    filled = interpolate_gap(0, one, 10, two)
    assert _regions(filled[1]) == 1 and filled[1][32, 32] == 1
    assert _regions(filled[9]) == 2 and filled[9][32, 32] == 0


def test_a_region_that_moves_further_than_its_width_slides_across():
    start, end = _disk(32, 12, 5), _disk(32, 30, 5)  # 18 px apart: no overlap
    filled = interpolate_gap(0, start, 10, end)
    for k, mask in filled.items():
        cols = np.nonzero(mask)[1]
        assert abs(int(mask.sum()) - int(start.sum())) <= 0.15 * start.sum(), f"slice {k} lost the region"
        assert abs(cols.mean() - (12 + 18 * k / 10)) < 1.0


def test_a_region_at_one_end_only_shrinks_away():
    filled = interpolate_gap(0, _disk(32, 32, 10), 10, np.zeros(SHAPE, np.uint8))
    areas = [int(filled[k].sum()) for k in range(1, 10)]
    assert areas == sorted(areas, reverse=True) and areas[0] > 0 and areas[-1] == 0


def test_anchors_fill_gaps_but_never_a_protected_slice():
    masks = {40: _disk(32, 32, 8), 45: np.zeros(SHAPE, np.uint8), 50: _disk(32, 32, 12), 60: _disk(32, 32, 12)}
    may_overwrite = set(range(41, 60)) - {47, 50}
    filled = interpolate_between_anchors(masks, anchors=[40, 50, 60], may_overwrite=may_overwrite)
    assert sorted(filled) == sorted(may_overwrite)
    assert all(filled[k].any() for k in filled)


def test_ten_slices_apart_on_the_development_head_matches_its_label(cranium):
    volume, label = cranium
    first, last = 95, 105
    filled = interpolate_gap(first, label[first], last, label[last], volume.spacing[1:])
    between = range(first + 1, last)
    pooled = 2.0 * sum((filled[k] & label[k]).sum() for k in between) / sum(
        filled[k].sum() + label[k].sum() for k in between)
    nearest = [label[first] if k - first <= last - k else label[last] for k in between]
    baseline = np.mean([_dice(n, label[k]) for n, k in zip(nearest, between)])
    assert pooled >= 0.87, pooled
    assert pooled > baseline + 0.03, (pooled, baseline)
    assert min(_dice(filled[k], label[k]) for k in between) >= 0.8
