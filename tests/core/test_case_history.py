"""The case-wide history and the one edit rule, without Qt: an entry is one user action over any number of slices,
undo and redo take whole entries whatever slice is on screen, they restore masks, statuses, confidences and the
saved state exactly, and a run that writes slice by slice is one entry that never breaks the order."""
from __future__ import annotations

import numpy as np

from core.annotation.slice_status import SliceStatus
from core.io.nifti import load_nifti_labels
from core.workspace import OpenCase
from core.workspace import multi_slice
from core.workspace.edit_rules import Allow, EditKind, may_write
from core.workspace.review import ReviewPass, SliceFilter
from tests.support.paths import SAMPLE_DIR

S = SliceStatus


def disk(cx: int, cy: int, radius: int) -> np.ndarray:
    rows, cols = np.mgrid[:128, :128]
    return ((cols - cx) ** 2 + (rows - cy) ** 2 <= radius ** 2).astype(np.uint8)


def snapshot(case: OpenCase) -> dict:
    """Everything a user could notice of every slice: mask, edited flags, status, confidence, unsaved."""
    return {i: (case.annotation(i).mask.tobytes(), case.annotation(i).edited.tobytes(), case.status(i),
                case.confidence(i), case.is_unsaved(i)) for i in range(case.num_slices)}


def test_the_one_rule_for_what_a_program_made_edit_may_write():
    P, I, R, C = EditKind.PREDICTION, EditKind.INTERPOLATION, EditKind.PROPAGATION, EditKind.CLICK
    everything = Allow(predicted=True, carried=True, human=True)
    for kind in (P, I, R, C):
        assert may_write(kind, S.EMPTY, False, False) and may_write(kind, S.PREDICTED, False, False)
        assert not may_write(kind, S.EMPTY, False, True, everything), "never under an open brush stroke"
    assert may_write(P, S.PREDICTED, True, False) and may_write(C, S.PREDICTED, True, False)
    assert not may_write(I, S.PREDICTED, True, False) and may_write(I, S.PREDICTED, True, False, Allow(predicted=True))
    assert not may_write(P, S.PROPAGATED, True, False) and may_write(P, S.INTERPOLATED, True, False, Allow(carried=True))
    assert may_write(R, S.INTERPOLATED, True, False) and may_write(C, S.PROPAGATED, True, False)
    for status in (S.EDITED, S.REVIEWED):
        assert not any(may_write(kind, status, True, False) for kind in (P, I, R, C))
        assert not may_write(I, status, True, False, everything) and not may_write(R, status, True, False, everything)
        assert may_write(P, status, True, False, Allow(human=True)) and may_write(C, status, True, False, everything)


def test_a_multi_slice_change_is_one_entry_undone_and_redone_whole_and_bit_identical(case):
    for index in range(30, 40):
        case.apply_prediction(index, disk(60 + index % 3, 60, 12 + index % 5), confidence=0.5 + index / 100)
    case.mark_reviewed([31, 38])
    before = snapshot(case)
    written = multi_slice.interpolate(case, around=35, allow=Allow(predicted=True))
    assert written == list(range(32, 38))
    assert all(case.status(i) is S.INTERPOLATED for i in written)
    after = snapshot(case)

    entry = case.undo()
    assert entry.label() == "Interpolate — slices 33–38"
    assert snapshot(case) == before, "the predictions, their confidences and statuses are back, bit for bit"
    case.redo()
    assert snapshot(case) == after
    case.undo()
    case.undo()  # the next entry back: marking 31 and 38 reviewed
    assert case.status(31) is S.PREDICTED and case.status(38) is S.PREDICTED


def test_undoing_back_to_the_saved_state_makes_the_slice_saved_and_drops_its_draft(case):
    case.apply_prediction(20, disk(64, 64, 10), confidence=0.7)
    case.save()
    case.edit(20, "Paint", lambda annotation: annotation.paint_disk(20, 20, 4, 1))
    assert case.is_unsaved(20) and case.status(20) is S.EDITED
    case.write_drafts()
    assert case.store.autosave_path(20).exists()
    case.undo()
    assert not case.is_unsaved(20) and case.status(20) is S.PREDICTED and case.unsaved_indexes() == []
    case.write_drafts()
    assert not case.store.autosave_path(20).exists()
    case.redo()
    assert case.is_unsaved(20)


def test_predictions_are_never_the_users_unsaved_work(case):
    case.apply_prediction(5, disk(64, 64, 10))
    case.edit(6, "Paint", lambda annotation: annotation.paint_disk(20, 20, 4, 1))
    case.mark_reviewed([7])
    assert case.unsaved_indexes() == [5, 6, 7] and case.unsaved_work() == [6, 7]


def test_a_run_is_one_entry_and_keeps_off_slices_a_person_changes_while_it_writes(case):
    stopped = []
    run = case.begin_run(EditKind.PREDICTION, "Segment whole case", on_stop=stopped.append)
    for index in (10, 11):
        assert run.write(index, disk(64, 64, 10), 0.9)
    case.edit(12, "Paint", lambda annotation: annotation.paint_disk(30, 30, 3, 1))  # the user, meanwhile
    case.edit(11, "Erase", lambda annotation: annotation.paint_disk(64, 64, 3, 0))
    edited_11 = case.annotation(11).mask.copy()
    assert not run.write(12, disk(64, 64, 10)), "human work is kept"
    assert not run.write(11, disk(64, 64, 11)), "a revision of a slice the user changed since is refused"
    assert run.write(13, disk(64, 64, 10), 0.8)
    run.end()
    assert [e.text for e in case.history.entries] == ["Segment whole case", "Paint", "Erase"]
    assert case.history.entries[0].indexes == [10, 11, 13] and run.kept == [12, 11]

    case.undo()  # the erase on slice 11
    assert case.status(11) is S.PREDICTED and case.annotation(11).mask.sum() == disk(64, 64, 10).sum()
    case.undo()
    case.undo()  # the whole run, from whichever slice
    assert all(not case.annotation(i).mask.any() and case.status(i) is S.EMPTY for i in (10, 11, 13))
    for _ in range(3):
        case.redo()
    assert np.array_equal(case.annotation(11).mask, edited_11) and case.status(11) is S.EDITED
    assert stopped == []


def test_undoing_a_run_that_still_writes_stops_it(case):
    stopped = []
    run = case.begin_run(EditKind.PROPAGATION, "Propagate up", on_stop=stopped.append)
    assert run.write(50, disk(64, 64, 10)) and case.status(50) is S.PROPAGATED
    case.undo()
    assert stopped == ["undone"] and not run.is_open and not case.annotation(50).mask.any()
    assert not run.write(49, disk(64, 64, 10)), "a stopped run writes nothing more"


def test_propagation_and_interpolation_write_their_own_statuses(case, sample_volume):
    labels = load_nifti_labels(SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz", sample_volume)
    for index in (50, 54):
        case.edit(index, "Paint", lambda annotation, i=index: annotation.set_mask(labels[i]))
    assert multi_slice.interpolate(case) == [51, 52, 53]
    run = case.begin_run(EditKind.PROPAGATION, "Propagate down")
    for proposal in multi_slice.propagation(case, 54, +1):
        run.write(proposal.index, proposal.mask)
        if proposal.index >= 56:
            break
    run.end()
    assert run.written == [55, 56]
    assert [case.status(i) for i in (51, 55)] == [S.INTERPOLATED, S.PROPAGATED]
    assert not any(s.is_training_data for s in (case.status(51), case.status(55)))


def test_u_visits_every_predicted_slice_from_the_least_sure_once_per_pass():
    review = ReviewPass()
    order = [49, 83, 50, 63, 65]  # least sure first
    visited = [review.next(order, 65)[0]]  # on slice 65 (among the surest): U goes to the least sure
    while len(visited) < 4:
        visited.append(review.next(order, visited[-1])[0])
    assert visited == [49, 83, 50, 63]
    assert review.next(order, 63) == (49, True), "every slice seen: a new pass from the least sure"
    assert ReviewPass().next([], 3) == (None, False)


def test_slice_list_filters():
    shows = {f: [s for s, c in ((S.PREDICTED, 0.3), (S.PREDICTED, 0.9), (S.INTERPOLATED, None),
                                (S.PROPAGATED, None), (S.EDITED, None), (S.REVIEWED, 0.2), (S.EMPTY, None))
                 if f.shows(s, c)] for f in SliceFilter}
    assert shows[SliceFilter.LOW_CONFIDENCE] == [S.PREDICTED]
    assert shows[SliceFilter.NOT_REVIEWED] == [S.PREDICTED, S.PREDICTED, S.INTERPOLATED, S.PROPAGATED]
    assert shows[SliceFilter.PROPAGATED] == [S.PROPAGATED] and len(shows[SliceFilter.ALL]) == 7
