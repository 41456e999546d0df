"""Seeded fill: a click adds the connected bone within a radius, a shift-click removes a region; one undo step."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.seeded_fill import add_bone, disk, remove_region
from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus

BONE_HU, SOFT_HU = 900, 30


def _two_bones() -> np.ndarray:
    """A bone ring (marrow inside) joined by a long thin bridge to a second bone far to the right."""
    hu = np.full((64, 96), SOFT_HU, np.int16)
    rows, cols = np.mgrid[:64, :96]
    distance = np.hypot(rows - 32, cols - 20)
    hu[(distance <= 10) & (distance >= 6)] = BONE_HU
    hu[31:33, 30:70] = BONE_HU  # bridge
    hu[20:44, 70:90] = BONE_HU
    return hu


def test_a_click_adds_the_connected_bone_within_the_radius_with_its_marrow():
    hu = _two_bones()
    annotation = SliceAnnotation(64, 96)
    change = add_bone(annotation, hu, 32, 12, radius=20, hu_min=300)
    mask = annotation.mask.astype(bool)
    assert mask[32, 20], "the marrow enclosed by the ring is filled"
    assert mask[32, 12] and mask[32, 31], "the ring and the start of the bridge"
    assert not mask[:, 70:].any(), "the bone beyond the radius stays out"
    assert mask[disk(mask.shape, 32, 12, 20) == 0].sum() == 0
    assert change is not None and annotation.source is SliceStatus.EDITED
    annotation.undo_change(change)
    assert not annotation.mask.any() and annotation.source is SliceStatus.EMPTY


def test_the_radius_is_in_millimetres_when_the_spacing_is_known():
    hu = _two_bones()
    fine, coarse = SliceAnnotation(64, 96), SliceAnnotation(64, 96)
    add_bone(fine, hu, 32, 12, radius=20, hu_min=300, pixel_spacing=(0.5, 0.5))  # 40 px
    add_bone(coarse, hu, 32, 12, radius=20, hu_min=300, pixel_spacing=(2.0, 2.0))  # 10 px
    assert fine.mask[:, 50:70].any() and not coarse.mask[:, 25:].any()


def test_a_click_off_bone_changes_nothing():
    annotation = SliceAnnotation(64, 96)
    assert add_bone(annotation, _two_bones(), 5, 5, radius=30, hu_min=300) is None
    assert not annotation.mask.any() and annotation.source is SliceStatus.EMPTY  # nothing was recorded as an edit


def test_shift_click_removes_only_the_region_under_the_cursor_as_one_step():
    mask = np.zeros((64, 96), np.uint8)
    mask[10:20, 10:20] = 1
    mask[40:50, 10:60] = 1
    annotation = SliceAnnotation(64, 96, mask=mask, source="predicted")
    change = remove_region(annotation, 45, 12, radius=15)
    assert annotation.mask[10:20, 10:20].all(), "the other region is untouched"
    assert not annotation.mask[40:50, 10:25].any() and annotation.mask[40:50, 30:60].all()
    annotation.undo_change(change)
    assert np.array_equal(annotation.mask, mask) and annotation.source is SliceStatus.PREDICTED
    assert remove_region(annotation, 30, 80, radius=15) is None


def test_in_the_ramus_it_adds_the_mandible_and_not_the_bone_beyond_the_radius(cranium):
    volume, label = cranium
    k, spacing = 86, volume.spacing[1:]
    regions, _ = ndimage.label(label[k], structure=np.ones((3, 3)))
    ramus = regions == regions[124, 79]  # the patient's right ramus at this level
    assert ramus.sum() > 100
    near, far = SliceAnnotation(*label[k].shape), SliceAnnotation(*label[k].shape)
    add_bone(near, volume.hu[k], 124, 79, radius=10, hu_min=250, pixel_spacing=spacing)
    add_bone(far, volume.hu[k], 124, 79, radius=40, hu_min=250, pixel_spacing=spacing)
    added = near.mask > 0
    assert (added & (label[k] > 0)).sum() >= 0.9 * added.sum(), "nearly all of it is mandible"
    assert (added & ramus).sum() >= 0.9 * (ramus & disk(added.shape, 124, 79, 10, spacing)).sum()
    # Without the radius the same click runs on into the touching bone that is not mandible.
    assert ((far.mask > 0) & (label[k] == 0)).sum() > 5 * (added & (label[k] == 0)).sum() + 50
