"""Segmenting a stored (not open) workspace case: predictions become drafts through the case's own door, human
slices are kept unless asked, a missing CT or a case opened meanwhile is said, cancel keeps what was done."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.annotation.slice_status import SliceStatus
from core.commands.segment_cases import CaseBusy, segment_stored_case
from core.errors import Cancelled, InputError
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.workspace import OpenCase, Workspace
from tests.support.cases import small_ct
from tests.support.models import write_biased_model

NO_REFINE = PredictionPolicy(refine=False)  # the biased model's own masks (all mandible), not the bone in them


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory):
    return Segmenter.from_file(write_biased_model(tmp_path_factory.mktemp("m") / "all.msmodel", True), "cpu")


def _stored_case(tmp_path, slices: int = 6, edited: int | None = None):
    """A workspace with one case of `slices` slices (slice `edited` drawn by a person and saved), not open."""
    workspace = Workspace.create(tmp_path / "ws")
    ct = small_ct(tmp_path / "ct.nii.gz", 68, slices)
    volume = load_volume(ct)
    case = OpenCase(volume, workspace.add_case(volume, ct))
    if edited is not None:
        case.annotation(edited).set_mask(np.eye(*volume.shape[1:], dtype=np.uint8))
        case.save()
    return workspace, case.store.case_id, ct


def _reopened(workspace, case_id, ct):
    return OpenCase(load_volume(ct), workspace.case(case_id))


def test_predictions_become_drafts_and_human_slices_are_kept(tmp_path, segmenter):
    workspace, case_id, ct = _stored_case(tmp_path, edited=2)
    drawn = _reopened(workspace, case_id, ct).annotation(2).mask.copy()
    assert segment_stored_case(workspace, case_id, segmenter, NO_REFINE) == (5, 5)
    case = _reopened(workspace, case_id, ct)
    assert case.status(2) is SliceStatus.EDITED and np.array_equal(case.annotation(2).mask, drawn)
    for index in (0, 1, 3, 4, 5):
        assert case.status(index) is SliceStatus.PREDICTED and case.annotation(index).mask.all()
        assert case.is_unsaved(index) and case.confidence(index) is not None  # a draft to check and save
    assert not case.is_unsaved(2)


def test_overwrite_replaces_the_human_slice_too(tmp_path, segmenter):
    workspace, case_id, ct = _stored_case(tmp_path, edited=2)
    assert segment_stored_case(workspace, case_id, segmenter, NO_REFINE, overwrite=True) == (6, 6)
    case = _reopened(workspace, case_id, ct)
    assert case.status(2) is SliceStatus.PREDICTED and case.annotation(2).mask.all()


def test_a_ct_that_moved_away_is_said_and_nothing_is_written(tmp_path, segmenter):
    workspace, case_id, ct = _stored_case(tmp_path)
    ct.rename(tmp_path / "moved.nii.gz")
    with pytest.raises(InputError, match="is no longer at .*ct.nii.gz; open it from where it is now"):
        segment_stored_case(workspace, case_id, segmenter, NO_REFINE)
    assert workspace.case(case_id).draft_indexes() == []


def test_a_case_opened_meanwhile_is_not_written(tmp_path, segmenter):
    workspace, case_id, _ = _stored_case(tmp_path)
    with pytest.raises(CaseBusy, match="was opened while it was being segmented"):
        segment_stored_case(workspace, case_id, segmenter, NO_REFINE, may_write=lambda: False)
    assert workspace.case(case_id).draft_indexes() == []


def test_cancel_keeps_the_slices_done(tmp_path, segmenter):
    workspace, case_id, _ = _stored_case(tmp_path, slices=8)
    cancel = threading.Event()

    def progress(step, total, message):
        if step == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        segment_stored_case(workspace, case_id, segmenter, NO_REFINE, progress=progress, cancel=cancel)
    kept = workspace.case(case_id).draft_indexes()
    assert 3 <= len(kept) < 8 and kept == list(range(len(kept)))
