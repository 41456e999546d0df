"""Propagation: follows the bone slice by slice, stops where it ends, never touches protected slices."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.annotation.propagation import propagate, propagate_all

SHAPE = (40, 64, 64)
BONE_HU, SOFT_HU = 1000, 40


def _cone_ct() -> np.ndarray:
    """Slices 10..30 hold a bone rod whose radius grows 0.5 px per slice; a second rod stands apart."""
    hu = np.full(SHAPE, SOFT_HU, np.int16)
    rows, cols = np.mgrid[:SHAPE[1], :SHAPE[2]]
    for k in range(10, 31):
        radius = 6 + 0.5 * (k - 10)
        hu[k][(rows - 32) ** 2 + (cols - 24) ** 2 <= radius ** 2] = BONE_HU
        hu[k][(rows - 32) ** 2 + (cols - 54) ** 2 <= 16] = BONE_HU  # other bone, 8+ px away
    return hu


def _disk_mask(radius: float) -> np.ndarray:
    rows, cols = np.mgrid[:SHAPE[1], :SHAPE[2]]
    return ((rows - 32) ** 2 + (cols - 24) ** 2 <= radius ** 2).astype(np.uint8)


def test_follows_the_bone_both_ways_and_stops_where_it_ends():
    hu = _cone_ct()
    start = (hu[20] >= 250) & (_disk_mask(12) > 0)
    down = propagate_all(hu, 20, start, +1, may_overwrite=range(40))
    up = propagate_all(hu, 20, start, -1, may_overwrite=range(40))
    assert [s.index for s in down.slices] == list(range(21, 31))
    assert [s.index for s in up.slices] == list(range(19, 9, -1))
    assert "bone ends at slice 32" in down.reason and "bone ends at slice 10" in up.reason
    for proposed in down.slices + up.slices:
        bone_of_rod = (hu[proposed.index] >= 250) & (_disk_mask(20) > 0)
        assert np.array_equal(proposed.mask > 0, bone_of_rod), f"slice {proposed.index}"


def test_never_proposes_a_protected_slice_or_anything_beyond_it():
    hu = _cone_ct()
    start = (hu[20] >= 250) & (_disk_mask(12) > 0)
    allowed = set(range(40)) - {25}
    result = propagate_all(hu, 20, start, +1, may_overwrite=allowed)
    assert [s.index for s in result.slices] == [21, 22, 23, 24]
    assert "slice 26" in result.reason


def test_a_cancel_stops_after_the_current_slice():
    hu = _cone_ct()
    cancel = threading.Event()
    start = (hu[20] >= 250) & (_disk_mask(12) > 0)
    generator = propagate(hu, 20, start, +1, range(40), cancel=cancel)
    first = next(generator)
    cancel.set()
    with pytest.raises(StopIteration) as stop:
        next(generator)
    assert first.index == 21 and stop.value.value == "stopped"


def test_a_region_running_into_touching_bone_is_dropped_not_followed():
    hu = _cone_ct()
    hu[25:, 20:60, 20:60] = BONE_HU  # a broad plate of other bone touches the rod from slice 25
    start = (hu[20] >= 250) & (_disk_mask(12) > 0)
    result = propagate_all(hu, 20, start, +1, may_overwrite=range(40))
    assert [s.index for s in result.slices] == [21, 22, 23, 24]
    assert "runs into other bone at slice 26" in result.reason


def test_the_network_probability_adds_bone_the_threshold_misses():
    hu = _cone_ct()
    hu[21, 30:35, 24:40] = SOFT_HU  # a slot of low-density bone open to the outside: no hole to fill
    probability = {21: _disk_mask(11.5).astype(np.float32)}
    start = _disk_mask(11)
    with_net = propagate_all(hu, 20, start, +1, range(22), probability=probability.get)
    without = propagate_all(hu, 20, start, +1, range(22))
    assert without.slices[0].mask[32, 30] == 0
    assert with_net.slices[0].mask[32, 30] == 1


def test_on_the_development_head_it_follows_the_label_and_stops_at_the_condyles(cranium):
    volume, label = cranium
    dice = {}
    result = propagate_all(volume.hu, 95, label[95], -1, range(volume.num_slices), volume.spacing[1:])
    for proposed in result.slices:
        a, b = proposed.mask > 0, label[proposed.index] > 0
        dice[proposed.index] = 2 * (a & b).sum() / (a.sum() + b.sum())
    # The label's topmost mandible slice index is 82 (condyle tops); 81 has none (slice number 82).
    assert min(dice) == 82 and "bone ends at slice 82" in result.reason
    assert min(dice[k] for k in range(86, 95)) >= 0.95
    down = propagate_all(volume.hu, 88, label[88], +1, range(volume.num_slices), volume.spacing[1:])
    assert down.slices[-1].index == volume.num_slices - 1 and "end of the CT" in down.reason
    assert all(2 * ((s.mask > 0) & (label[s.index] > 0)).sum() / (s.mask.sum() + label[s.index].sum()) >= 0.9
               for s in down.slices)


