"""Mask <-> polygon conversion: exact, stable over repeated round trips, holes and islands kept."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from core.annotation.polygons import (HOLE_LABEL, Polygon, mask_to_polygons, mask_to_shapes, polygons_to_mask,
                                      shapes_to_mask)
from core.annotation.shape import Shape
from tests.support.paths import shared_path


def _ring_with_island(size: int = 40) -> np.ndarray:
    """A mandible-like ring (cortex) around marrow, with a bone island inside the marrow."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2.3)
    mask = (r < size * 0.4) & (r >= size * 0.25)
    mask |= r < size * 0.1
    return mask.astype(np.uint8)


def test_hole_and_island_survive_round_trip():
    mask = _ring_with_island()
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 2  # the ring (with its hole) and the island drawn after it
    assert len(polygons[0].holes) == 1 and polygons[1].holes == []
    np.testing.assert_array_equal(polygons_to_mask(polygons, *mask.shape), mask > 0)
    shapes = mask_to_shapes(mask)
    assert [s.label for s in shapes] == ["mandible", HOLE_LABEL, "mandible"]
    assert all(s.shape_type == "polygon" and len(s.points) >= 3 for s in shapes)
    np.testing.assert_array_equal(shapes_to_mask(shapes, *mask.shape), mask)


def test_ten_round_trips_do_not_drift():
    rng = np.random.default_rng(7)
    mask = ndimage.gaussian_filter(rng.random((64, 80)), 2.0) > 0.5
    mask[30:34, 30:34] = False
    current = mask
    for _ in range(10):
        current = shapes_to_mask(mask_to_shapes(current), *mask.shape).astype(bool)
    np.testing.assert_array_equal(current, mask)


@pytest.mark.parametrize("seed", range(20))
def test_noisy_masks_are_exact(seed):
    """Salt-and-pepper masks: single pixels, diagonal pinches, nested holes in holes."""
    rng = np.random.default_rng(seed)
    mask = rng.random((24, 31)) < rng.uniform(0.2, 0.8)
    np.testing.assert_array_equal(polygons_to_mask(mask_to_polygons(mask), *mask.shape), mask)


def test_tiny_components_get_labelme_valid_polygons():
    mask = np.zeros((8, 8), np.uint8)
    mask[1, 1] = 1
    mask[5, 5:7] = 1
    shapes = mask_to_shapes(mask)
    assert len(shapes) == 2 and all(len(s.points) >= 3 for s in shapes)
    np.testing.assert_array_equal(shapes_to_mask(shapes, 8, 8), mask)


def test_empty_mask_and_bad_shapes():
    assert mask_to_shapes(np.zeros((5, 5))) == []
    assert not shapes_to_mask([], 5, 5).any()
    with pytest.raises(ValueError, match="needs at least 3 points"):
        shapes_to_mask([Shape("mandible", ((0.0, 0.0), (1.0, 1.0)))], 5, 5)
    with pytest.raises(ValueError, match="does not know"):
        shapes_to_mask([Shape("mandible", ((0.0, 0.0),), shape_type="blob")], 5, 5)
    with pytest.raises(ValueError, match="2-D"):
        mask_to_polygons(np.zeros((2, 2, 2)))


def test_later_shape_of_another_label_erases_mandible():
    """Labelme paints shapes in order: a later 'tooth' square covers the mandible class there."""
    square = ((1.0, 1.0), (8.0, 1.0), (8.0, 8.0), (1.0, 8.0))
    small = ((3.0, 3.0), (5.0, 3.0), (5.0, 5.0), (3.0, 5.0))
    mask = shapes_to_mask([Shape("mandible", square), Shape("tooth", small)], 10, 10)
    assert mask.sum() == 64 - 9 and mask[4, 4] == 0
    before = shapes_to_mask([Shape("tooth", small), Shape("mandible", square)], 10, 10)
    assert before.sum() == 64


def test_polygon_vertices_are_x_y():
    mask = np.zeros((10, 20), np.uint8)
    mask[2:4, 10:15] = 1  # rows 2-3, columns 10-14
    (polygon,) = mask_to_polygons(mask)
    assert isinstance(polygon, Polygon)
    assert polygon.outer[:, 0].min() == 10 and polygon.outer[:, 0].max() == 14
    assert polygon.outer[:, 1].min() == 2 and polygon.outer[:, 1].max() == 3


@pytest.mark.shared
def test_real_mandible_contours_are_exact():
    import nibabel as nib

    labels = np.asarray(nib.load(shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_224.nii.gz")).dataobj)
    checked = 0
    for k in range(labels.shape[2]):
        mask = labels[:, :, k].T > 0
        if mask.any():
            np.testing.assert_array_equal(shapes_to_mask(mask_to_shapes(mask), *mask.shape).astype(bool), mask)
            checked += 1
    assert checked > 10
