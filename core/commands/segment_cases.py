"""Segment workspace cases that are not open in the app (its "Segment Cases…"), one case at a time.

Each case's CT is loaded from where it was opened, segmented with the one prediction path, and every
prediction goes through the case's own door, one `CaseRun` of kind PREDICTION, which writes only what the one
edit rule allows (core/workspace/edit_rules.py): a person's edited, reviewed, interpolated or propagated slices are
kept unless `overwrite`. The predictions end as drafts of the
case, unsaved, as Segment Whole Case leaves them (decision 141): the next time the case opens they are
there, marked predicted, to check and save.
"""
from __future__ import annotations

import threading
from typing import Callable

from core.errors import Cancelled, InputError
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import Progress, Segmenter
from core.io.grey_values import AUTO
from core.io.loader import load_volume
from core.workspace import OpenCase, Workspace
from core.workspace.edit_rules import Allow, EditKind


class CaseBusy(InputError):
    """The case was opened in the app while it was being segmented: its predictions were not written."""


def segment_stored_case(workspace: Workspace, case_id: str, segmenter: Segmenter, policy: PredictionPolicy,
                        overwrite: bool = False, progress: Progress | None = None,
                        cancel: threading.Event | None = None,
                        may_write: Callable[[], bool] = lambda: True) -> tuple[int, int]:
    """Segment one stored case and write its predictions as drafts: (slices predicted, slices with mandible).

    `may_write` is asked just before anything is written (CaseBusy when it says no). On cancel the slices
    predicted so far are written, then Cancelled is raised.
    """
    store = workspace.case(case_id)
    record = store.record
    if record.source_path is None or not record.source_path.exists():
        raise InputError(f"the CT of {record.display_name} is no longer at {record.source or 'a known place'}; "
                         "open it from where it is now, then segment it")
    volume = load_volume(record.source_path, series_uid=record.series_uid, cancel=cancel,
                         calibration=record.calibration or AUTO)  # the grey values the case was seen in
    case = OpenCase(volume, store)
    # Nobody else edits this OpenCase: every slice the rule lets a prediction write now takes its prediction.
    allow = Allow(carried=overwrite, human=overwrite)
    todo = case.targets(EditKind.PREDICTION, allow=allow)
    run = case.begin_run(EditKind.PREDICTION, "Segment case", allow)
    done: list[int] = []
    try:
        for prediction in segmenter.predict(volume, todo, policy, cancel):
            run.write(prediction.index, prediction.mask, prediction.confidence)
            if not prediction.revised:
                done.append(prediction.index)
                if progress is not None:
                    progress(len(done), len(todo), f"{record.display_name}: slice {len(done)} of {len(todo)}")
    except Cancelled:
        _write(case, may_write)
        raise
    _write(case, may_write)
    return len(done), sum(1 for index in done if case.found_mandible(index))


def _write(case: OpenCase, may_write: Callable[[], bool]) -> None:
    if not may_write():
        raise CaseBusy(f"{case.record.display_name} was opened while it was being segmented; its predictions "
                       "were not written: use Segment Whole Case there")
    case.write_drafts()
