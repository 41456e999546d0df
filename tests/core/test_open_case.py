"""The open case without Qt: statuses follow the annotations, predictions respect human work, listeners hear
every change with its region, drafts bring back what a killed app had, saves are honest about failures."""
from __future__ import annotations

import errno
import os

import numpy as np
import pytest

import core.workspace.case_store as case_store_module
from core.annotation.slice_status import SliceStatus
from core.errors import InputError
from core.io.nifti import load_nifti_labels
from core.io.slice_export import read_slice_mask
from core.workspace import OpenCase, SaveError, SliceChange, Workspace
from core.workspace.edit_rules import Allow, EditKind
from tests.support.paths import SAMPLE_DIR

LABEL_PATH = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"


def reopen(workspace: Workspace, sample_volume) -> OpenCase:
    """What the app does after a restart: a fresh Workspace finds the case of the same CT and opens it."""
    return OpenCase(sample_volume, Workspace.open(workspace.root).add_case(sample_volume, SAMPLE_DIR))


def brush(case: OpenCase, index: int, cx: float = 64, cy: float = 40):
    return case.annotation(index).paint_disk(cx, cy, 6, 1)


def disk(cx: int, cy: int, radius: int) -> np.ndarray:
    rows, cols = np.mgrid[:128, :128]
    return ((cols - cx) ** 2 + (rows - cy) ** 2 <= radius ** 2).astype(np.uint8)


def test_listeners_hear_each_change_with_its_region_and_statuses_follow_the_annotation(case):
    heard: list[SliceChange] = []
    case.add_listener(heard.append)
    case.annotation(10).paint_disk(30, 20, 4, 1)
    assert heard[-1].index == 10 and heard[-1].region == (slice(16, 25), slice(26, 35))
    assert case.status(10) is SliceStatus.EDITED and case.is_unsaved(10) and case.pending_drafts == {10}
    assert case.toggle_reviewed(10) is SliceStatus.REVIEWED and heard[-1] == SliceChange(10, None)
    case.annotation(10).paint_disk(60, 60, 2, 1)  # reviewed is sticky through later edits
    assert case.status(10) is SliceStatus.REVIEWED
    assert case.toggle_reviewed(10) is SliceStatus.EDITED  # R again: back to what the annotation says
    assert case.training_slices() == [10]


def test_a_prediction_respects_human_work_unless_overwriting_and_never_lands_under_the_brush(case):
    brush(case, 7)
    edited = case.annotation(7).mask.copy()
    assert not case.apply_prediction(7, disk(64, 64, 20)) and np.array_equal(case.annotation(7).mask, edited)
    assert case.apply_prediction(7, disk(64, 64, 20), confidence=0.8, allow=Allow(human=True))
    assert case.status(7) is SliceStatus.PREDICTED and case.confidence(7) == 0.8
    case.undo()  # undo gives the human mask back
    assert np.array_equal(case.annotation(7).mask, edited) and case.status(7) is SliceStatus.EDITED

    stroke = case.annotation(8).begin_stroke(3, 1)  # the user holds the brush down on slice 8
    assert not case.may_write(EditKind.PREDICTION, 8, Allow(human=True))
    assert not case.apply_prediction(8, disk(64, 64, 20), allow=Allow(human=True))
    stroke.finish()
    case.apply_prediction(9, np.zeros((128, 128), np.uint8), confidence=1.0)  # the model found no mandible
    assert case.status(9) is SliceStatus.PREDICTED and not case.found_mandible(9)


def test_the_least_certain_predicted_slice_comes_first(case):
    for index, confidence in ((3, 0.9), (5, 0.2), (8, 0.6), (9, 0.1)):
        case.apply_prediction(index, disk(64, 64, 10), confidence=confidence)
    brush(case, 9)  # an edited slice is no longer the model's to check
    assert case.review_order() == [5, 8, 3]


def test_save_then_reopen_restores_annotations_statuses_confidences_and_last_slice(case, workspace, sample_volume):
    brush(case, 60)
    brush(case, 61, 50, 50)
    case.toggle_reviewed(61)
    case.apply_prediction(62, case.annotation(61).mask, confidence=0.75)
    case.last_slice = 61
    result = case.save()
    assert result.saved == [60, 61, 62] and case.unsaved_indexes() == []
    assert not any(case.store.autosave_dir.glob("*.npz"))

    again = reopen(workspace, sample_volume)
    assert again.last_slice == 61 and sorted(again.annotations) == [60, 61, 62]
    for index in (60, 61, 62):
        assert np.array_equal(again.annotation(index).mask, case.annotation(index).mask)
    assert again.statuses()[60:63] == [SliceStatus.EDITED, SliceStatus.REVIEWED, SliceStatus.PREDICTED]
    assert again.annotation(62).source is SliceStatus.PREDICTED and not again.annotation(62).edited.any()
    assert again.confidence(62) == 0.75 and again.training_slices() == [60, 61]
    assert again.store.training_slices() == [60, 61] and again.unsaved_indexes() == []


def test_a_killed_app_gets_its_edits_and_predictions_back_from_drafts(case, workspace, sample_volume):
    brush(case, 70, 64, 30)
    case.save()
    case.annotation(70).paint_disk(20, 100, 4, 1)  # an edit after the save...
    case.toggle_reviewed(70)
    case.apply_prediction(71, disk(64, 64, 12), confidence=0.5)  # ...and a prediction, drafted; then killed
    assert case.write_drafts() == [70, 71]

    again = reopen(workspace, sample_volume)
    assert np.array_equal(again.annotation(70).mask, case.annotation(70).mask)
    assert np.array_equal(again.annotation(70).edited, case.annotation(70).edited)
    assert again.status(70) is SliceStatus.REVIEWED and again.status(71) is SliceStatus.PREDICTED
    assert again.unsaved_indexes() == [70, 71] and again.confidence(71) == 0.5
    saved_mask, _ = read_slice_mask(again.store.annotation_path(70), 128, 128)
    assert saved_mask[100, 20] == 0  # the Labelme file still has the old save until the user saves


def test_drafts_can_be_written_a_few_at_a_time(case):
    for index in range(6):
        case.apply_prediction(index, disk(64, 64, 10))
    assert case.write_drafts(max_seconds=0.0) == [0]  # one slice per call at the least
    assert case.pending_drafts == {1, 2, 3, 4, 5}
    assert case.write_drafts() == [1, 2, 3, 4, 5] and not case.pending_drafts


def test_disk_full_during_save_raises_and_keeps_the_slice_unsaved(case, monkeypatch):
    brush(case, 50)
    case.write_drafts()

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(SaveError, match="No space left on device"):
        case.save()
    monkeypatch.undo()
    assert case.unsaved_indexes() == [50]
    assert not case.store.annotation_path(50).exists() and case.store.autosave_path(50).exists()
    assert case.save().saved == [50] and case.unsaved_indexes() == []  # once there is space again


def test_save_into_an_unwritable_folder_names_the_slice_as_the_user_counts_it(case, workspace, sample_volume):
    brush(case, 55)
    case.store.annotations_dir.write_text("a file where the folder should be")  # root cannot be blocked by chmod
    with pytest.raises(SaveError, match="could not save slice 56") as info:
        case.save()
    assert "unsaved" in str(info.value) and case.is_unsaved(55)
    assert reopen(workspace, sample_volume).store.training_slices() == []


def test_a_slice_edited_while_it_is_being_saved_stays_unsaved(case, monkeypatch):
    brush(case, 40)
    plan = case.prepare_save()
    real_export = case_store_module.export_slice

    def export_while_user_edits(*args, **kwargs):
        case.annotation(40).paint_disk(10, 10, 2, 1)  # the GUI thread edits mid-save
        return real_export(*args, **kwargs)

    monkeypatch.setattr(case_store_module, "export_slice", export_while_user_edits)
    result = plan.run()
    case.finish_save(plan, result)
    assert result.saved == [40] and case.unsaved_indexes() == [40] and 40 in case.pending_drafts


def test_imported_labels_are_human_work(case, workspace, sample_volume):
    labels = load_nifti_labels(LABEL_PATH, sample_volume)
    heard = []
    case.add_listener(heard.append)
    imported = case.import_labels(labels)
    labelled = [i for i in range(128) if labels[i].any()]
    assert imported == labelled and case.unsaved_indexes() == labelled
    assert all(case.status(i) is SliceStatus.EDITED for i in labelled)
    assert {c.index for c in heard} == set(labelled)
    first = next(c for c in heard if c.region is not None)  # the box to repaint holds every labelled pixel
    rows, cols = np.nonzero(labels[first.index])
    assert first.region[0].start <= rows.min() and rows.max() < first.region[0].stop
    assert first.region[1].start <= cols.min() and cols.max() < first.region[1].stop
    case.save()
    again = reopen(workspace, sample_volume)
    assert again.training_slices() == labelled and np.array_equal(again.annotation(61).mask, labels[61])
    with pytest.raises(InputError, match="choose the labels of this scan"):
        case.import_labels(np.zeros((10, 128, 128), np.uint8))


def test_a_slice_undone_back_to_empty_loses_its_files_on_save(case, workspace, sample_volume):
    change = brush(case, 30)
    case.save()
    assert case.store.training_slices() == [30]
    case.annotation(30).undo_change(change)
    assert case.status(30) is SliceStatus.EMPTY and case.is_unsaved(30)
    assert case.save().removed == [30]
    assert not case.store.annotation_path(30).exists() and not case.store.annotation_path(30).with_suffix(".png").exists()
    assert reopen(workspace, sample_volume).annotations == {} and case.store.training_slices() == []
