"""SliceAnnotation: brush, eraser and polygon edits on a real CT slice, with exact undo/redo and no drift."""
from __future__ import annotations

import numpy as np
import pytest

from core.annotation.polygons import Polygon, mask_to_polygons, polygons_to_mask
from core.annotation.slice_status import SliceStatus
from core.annotation.slice_annotation import SliceAnnotation
from tests.support.paths import SAMPLE_DIR

LABEL_PATH = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"
SLICE = 62  # the slice of the sample with the most mandible


@pytest.fixture
def labelled(sample_case) -> SliceAnnotation:
    """The clinical mandible contour of the sample's fullest slice, as a human annotation."""
    _, labels = sample_case
    mask = labels[SLICE]
    return SliceAnnotation(*mask.shape, mask=mask, edited=mask.astype(bool), source=SliceStatus.EDITED)


def disk(shape, cx, cy, radius):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return ((cols - cx) ** 2 + (rows - cy) ** 2 <= radius ** 2).astype(np.uint8)


def test_brush_dab_paints_a_disk_and_undo_redo_restore_exact_pixels():
    ann = SliceAnnotation(64, 80)
    change = ann.paint_disk(30, 20, 4, 1)
    assert np.array_equal(ann.mask, disk((64, 80), 30, 20, 4))
    assert ann.source is SliceStatus.EDITED and np.array_equal(ann.edited, ann.mask.astype(bool))
    # The change holds the dab's box only, not the slice.
    assert change.old.shape == change.new.shape == (9, 9)
    ann.undo_change(change)
    assert not ann.mask.any() and not ann.edited.any() and ann.source is SliceStatus.EMPTY
    ann.redo_change(change)
    assert np.array_equal(ann.mask, disk((64, 80), 30, 20, 4))


def test_a_whole_drag_is_one_change_and_leaves_no_gaps():
    ann = SliceAnnotation(64, 128)
    seen = []
    ann.add_listener(seen.append)
    with ann.stroke(radius=2, value=1) as stroke:
        for x in (5, 45, 85, 120):  # 40 px jumps between mouse events
            stroke.add_point(x, 30)
    expected = disk((64, 128), 5, 30, 2) | disk((64, 128), 120, 30, 2)
    expected[28:33, 5:121] = 1  # every pixel centre within 2 px of the segment along row 30
    assert np.array_equal(ann.mask, expected)
    assert len(seen) == 4  # the view repaints during the drag
    ann.undo_change(stroke.change)  # one undo removes the whole drag
    assert not ann.mask.any()


def test_eraser_and_undo_three_redo_two(labelled):
    ann = labelled
    states = [ann.mask.copy()]
    changes = []
    for cx, cy, value in ((60, 30, 1), (64, 40, 0), (30, 90, 1)):
        changes.append(ann.paint_disk(cx, cy, 5, value))
        states.append(ann.mask.copy())
    assert all(c is not None for c in changes)
    assert not np.array_equal(states[1], states[2])  # the eraser removed paint
    for change in reversed(changes):
        ann.undo_change(change)
    assert np.array_equal(ann.mask, states[0])
    ann.redo_change(changes[0])
    ann.redo_change(changes[1])
    assert np.array_equal(ann.mask, states[2])


def test_threshold_brush_paints_only_bone_on_a_real_slice(sample_case):
    volume, labels = sample_case
    hu = volume.hu[SLICE]
    rows, cols = np.nonzero(labels[SLICE])
    cy, cx = float(rows.mean()), float(cols.mean())
    ann = SliceAnnotation(*hu.shape)
    ann.paint_disk(cx, cy, 20, 1, hu=hu, hu_min=300)
    footprint = disk(hu.shape, cx, cy, 20).astype(bool)
    assert np.array_equal(ann.mask.astype(bool), footprint & (hu >= 300))
    assert ann.mask.sum() > 20 and (footprint & (hu < 300)).sum() > 100  # it really skipped soft tissue
    # Most of what it painted is the clinically contoured mandible.
    assert (ann.mask & labels[SLICE]).sum() > 0.5 * ann.mask.sum()


def test_painting_where_already_painted_is_no_change():
    ann = SliceAnnotation(32, 32)
    ann.paint_disk(10, 10, 3, 1)
    assert ann.paint_disk(10, 10, 2, 1) is None
    assert ann.paint_disk(25, 25, 3, 0) is None


def test_prediction_then_human_edit_are_told_apart_and_undo_restores_the_prediction(labelled):
    prediction = labelled.mask.copy()
    ann = SliceAnnotation(*prediction.shape)
    ann.set_predicted(prediction)
    assert ann.source is SliceStatus.PREDICTED and not ann.edited.any()
    change = ann.paint_disk(10, 10, 3, 1)
    assert ann.source is SliceStatus.EDITED
    assert np.array_equal(ann.edited, disk(prediction.shape, 10, 10, 3).astype(bool) & ~prediction.astype(bool))
    ann.undo_change(change)
    assert ann.source is SliceStatus.PREDICTED and not ann.edited.any() and np.array_equal(ann.mask, prediction)


def sharpest_vertex(outer: np.ndarray) -> int:
    """The vertex farthest from the chord of its neighbours: deleting it surely changes the outline."""
    prev, nxt = np.roll(outer, 1, axis=0), np.roll(outer, -1, axis=0)
    chord, offset = nxt - prev, outer - prev
    cross = np.abs(chord[:, 0] * offset[:, 1] - chord[:, 1] * offset[:, 0])
    return int(np.argmax(cross / np.maximum(np.hypot(*chord.T), 1)))


OPS = {
    "move_vertex": lambda a: a.move_vertex(0, len(a.polygons[0].outer) // 2,
                                           *(a.polygons[0].outer[len(a.polygons[0].outer) // 2] + (6, 4))),
    "insert_vertex": lambda a: a.insert_vertex(0, 0, *(a.polygons[0].outer[0] + (-5, -5))),
    "delete_vertex": lambda a: a.delete_vertex(0, sharpest_vertex(a.polygons[0].outer)),
    "translate_polygon": lambda a: a.translate_polygon(0, 3, -2),
    "delete_polygon": lambda a: a.delete_polygon(0),
    "add_polygon": lambda a: a.add_polygon([(5, 5), (30, 5), (20, 25)]),
    "fill_holes": lambda a: a.fill_holes(),
    "remove_small_islands": lambda a: a.remove_small_islands(10_000),
    "set_mask": lambda a: a.set_mask(np.roll(a.mask, 5, axis=1)),
    "clear": lambda a: a.clear(),
    "set_predicted": lambda a: a.set_predicted(np.roll(a.mask, 3, axis=0)),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_operation_is_undone_and_redone_exactly(labelled, op):
    ann = labelled
    if op == "fill_holes":
        ann.paint_disk(64, 64, 6, 1)
        ann.paint_disk(64, 64, 2, 0)  # a hole to fill
    before = (ann.mask.copy(), ann.edited.copy(), ann.source)
    change = OPS[op](ann)
    assert change is not None, f"{op} changed nothing"
    after = (ann.mask.copy(), ann.edited.copy(), ann.source)
    assert not np.array_equal(before[0], after[0])
    ann.undo_change(change)
    assert np.array_equal(ann.mask, before[0]) and np.array_equal(ann.edited, before[1]) and ann.source == before[2]
    ann.redo_change(change)
    assert np.array_equal(ann.mask, after[0]) and np.array_equal(ann.edited, after[1]) and ann.source == after[2]


def test_vertex_edit_changes_only_pixels_near_that_vertex(labelled):
    ann = labelled
    before = ann.mask.copy()
    outer = ann.polygons[0].outer
    k = len(outer) // 2
    prev_pt, old_pt, next_pt = outer[k - 1], outer[k], outer[(k + 1) % len(outer)]
    new_pt = old_pt + (5, -6)
    ann.move_vertex(0, k, *new_pt)
    changed_rows, changed_cols = np.nonzero(ann.mask != before)
    assert changed_rows.size > 0
    corners = np.array([prev_pt, old_pt, next_pt, new_pt])
    # Every changed pixel lies in the box of the two edges that moved (one pixel of slack for the outline).
    assert changed_cols.min() >= corners[:, 0].min() - 1 and changed_cols.max() <= corners[:, 0].max() + 1
    assert changed_rows.min() >= corners[:, 1].min() - 1 and changed_rows.max() <= corners[:, 1].max() + 1
    # Vertex edits update the polygons (one truth): the moved vertex is now a polygon vertex.
    assert any((np.asarray(p.outer) == new_pt).all(axis=1).any() for p in ann.polygons)


def test_twenty_alternating_brush_and_vertex_edits_do_not_drift(labelled):
    ann = labelled
    original = ann.mask.copy()
    expected = ann.mask.copy()
    rng = np.random.default_rng(7)
    changes = []
    for step in range(20):
        if step % 2 == 0:
            cx, cy = rng.uniform(20, 108, size=2)
            value = int(step % 4 == 0)
            changes.append(ann.paint_disk(cx, cy, 3, value))
            footprint = disk(expected.shape, cx, cy, 3).astype(bool)
            footprint[int(round(cy)), int(round(cx))] = True
            expected[footprint] = value
        else:
            polygons = list(ann.polygons)
            outer = polygons[0].outer.copy()
            k = int(rng.integers(len(outer)))
            outer[k] = outer[k] + rng.integers(-3, 4, size=2)
            polygons[0] = Polygon(outer, polygons[0].holes)
            changes.append(ann.move_vertex(0, k, *outer[k]))
            expected = polygons_to_mask(polygons, *expected.shape).astype(np.uint8)
        assert np.array_equal(ann.mask, expected), f"drift after edit {step + 1}"
    assert np.array_equal(polygons_to_mask(mask_to_polygons(ann.mask), *expected.shape), ann.mask.astype(bool))
    final = ann.mask.copy()
    done = [c for c in changes if c is not None]
    for change in reversed(done):
        ann.undo_change(change)
    assert np.array_equal(ann.mask, original)
    for change in done:
        ann.redo_change(change)
    assert np.array_equal(ann.mask, final)


def test_fill_holes_and_remove_small_islands():
    ann = SliceAnnotation(64, 64)
    ann.add_polygon([(10, 10), (40, 10), (40, 40), (10, 40)])
    ann.paint_disk(25, 25, 4, 0)  # a hole
    ann.paint_disk(55, 55, 1, 1)  # a 5-pixel speck
    assert ann.mask[25, 25] == 0
    ann.fill_holes()
    assert ann.mask[10:41, 10:41].all()
    change = ann.remove_small_islands(20)
    assert ann.mask[55, 55] == 0 and ann.mask[10:41, 10:41].all() and np.count_nonzero(change.old != change.new) == 5


def test_copy_from_the_neighbouring_slice(sample_case):
    _, labels = sample_case
    ann = SliceAnnotation(*labels[SLICE].shape)
    ann.paint_disk(5, 5, 2, 1)
    change = ann.set_mask(labels[SLICE - 1])
    assert np.array_equal(ann.mask, labels[SLICE - 1])
    assert ann.edited[labels[SLICE - 1] > 0].all()
    ann.undo_change(change)
    assert ann.mask.sum() == disk(ann.shape, 5, 5, 2).sum()


def test_polygons_follow_brush_edits(labelled):
    ann = labelled
    count = len(ann.polygons)
    ann.paint_disk(10, 120, 2, 1)  # a new island far from the mandible
    assert len(ann.polygons) == count + 1
    assert np.array_equal(polygons_to_mask(ann.polygons, *ann.shape), ann.mask.astype(bool))


def test_delete_vertex_of_a_triangle_removes_the_polygon():
    ann = SliceAnnotation(40, 40)
    ann.add_polygon([(5, 5), (30, 5), (5, 30)])
    assert len(ann.polygons) == 1 and len(ann.polygons[0].outer) == 3
    ann.delete_vertex(0, 0)
    assert not ann.mask.any()


def test_edits_during_a_stroke_are_refused():
    ann = SliceAnnotation(20, 20)
    stroke = ann.begin_stroke(2, 1)
    stroke.add_point(5, 5)
    with pytest.raises(RuntimeError):
        ann.fill_holes()
    assert stroke.finish() is not None
    assert ann.fill_holes() is None


def test_the_source_is_a_slice_status_and_reviewed_is_not_a_source():
    """One vocabulary: what an annotation says about itself is a SliceStatus; REVIEWED is a person's verdict."""
    ann = SliceAnnotation(8, 8, mask=np.eye(8))
    assert ann.source is SliceStatus.PREDICTED and ann.copy().source is SliceStatus.PREDICTED
    with pytest.raises(ValueError, match="source"):
        SliceAnnotation(8, 8, source=SliceStatus.REVIEWED)


def test_two_changes_merged_undo_and_redo_as_one():
    """A prediction and its revision by the whole-run clean-up are one undo step (edits.merge_changes)."""
    from core.annotation.edits import merge_changes

    ann = SliceAnnotation(40, 40)
    prediction = disk((40, 40), 20, 20, 8)
    prediction[2, 35] = 1  # an island the clean-up removes
    first = ann.set_predicted(prediction)
    second = ann.set_predicted(disk((40, 40), 20, 20, 8))
    merged = merge_changes(first, second, ann.mask, ann.edited)
    ann.undo_change(merged)
    assert not ann.mask.any() and ann.source is SliceStatus.EMPTY
    ann.redo_change(merged)
    assert np.array_equal(ann.mask, disk((40, 40), 20, 20, 8)) and ann.source is SliceStatus.PREDICTED
