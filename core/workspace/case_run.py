"""A program-made change of many slices whose slices arrive one by one (Segment Whole Case, propagation): it
writes each slice the one rule allows (core/workspace/edit_rules.py) and is ONE entry of the case-wide history.

    run = case.begin_run(EditKind.PREDICTION, "Segment whole case", allow, on_stop=job.cancel)
    for prediction in predictions:
        run.write(prediction.index, prediction.mask, prediction.confidence)   # False: the slice is kept
    run.end()

The entry joins the history at the run's first written slice and grows with each next one (a slice written
twice, a prediction and its revision, is one change). While the run writes, a person may work on other slices:
their entries come after the run's, and the run then keeps off the slices they changed, so that undoing entry
by entry always finds each slice as the entry left it. Undoing the run's own entry while it still writes stops
it first (`on_stop("undone")`), and so does closing the case.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from core.workspace.edit_rules import Allow, EditKind
from core.workspace.history import HistoryEntry, SliceEdit

if TYPE_CHECKING:
    from core.workspace.open_case import OpenCase


class CaseRun:
    """Made by `OpenCase.begin_run`; `write` each slice, then `end`."""

    def __init__(self, case: "OpenCase", kind: EditKind, text: str, allow: Allow,
                 on_stop: Callable[[str], None] | None) -> None:
        self._case, self.kind, self.text, self.allow = case, kind, text, allow
        self._on_stop = on_stop
        self.entry: HistoryEntry | None = None
        self.written: list[int] = []
        self.kept: list[int] = []  # slices it was refused (human work, another action's slices)
        self.stopped: str | None = None  # why the case stopped it (None: it ended or still writes)
        self._kept_off: set[int] = set()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def may_write(self, index: int) -> bool:
        return self._open and index not in self._kept_off and self._case.may_write(self.kind, index, self.allow)

    def write(self, index: int, mask: np.ndarray, confidence: float | None = None) -> bool:
        """Write one slice where the rule allows; False (and the slice in `kept`) when it is kept."""
        if not self.may_write(index):
            if self._open and index not in self.kept:
                self.kept.append(index)
            return False
        case = self._case
        edit = self.entry.edits.get(index) if self.entry is not None else None
        before = edit.before if edit is not None else case.slice_state(index)
        change = case.write_slice(self.kind, index, mask, confidence)
        after = case.slice_state(index)
        if index not in self.written:
            self.written.append(index)
        if edit is not None:
            annotation = case.annotation(index)
            edit.add(change, annotation.mask, annotation.edited, after)
            case.history.changed()
        elif change is not None or after != before:
            self._record(SliceEdit(index, change, before, after))
        return True

    def keep_off(self, indexes: list[int]) -> None:
        """Another action changed these slices: the run writes them no more."""
        self._kept_off.update(indexes)

    def end(self) -> HistoryEntry | None:
        """The run is complete (or its job was cancelled): nothing more is written; its entry (None: it wrote
        nothing)."""
        self._close()
        return self.entry

    def stop(self, why: str) -> None:
        """The case stops the run (its entry is being undone, the case closes); its owner hears why."""
        if not self._open:
            return
        self.stopped = why
        self._close()
        if self._on_stop is not None:
            self._on_stop(why)

    def _record(self, edit: SliceEdit) -> None:
        if self.entry is None:
            self.entry = HistoryEntry(self.text, {edit.index: edit})
            self._case.push_entry(self.entry, by=self)
        else:
            self.entry.edits[edit.index] = edit
            self._case.history.changed()

    def _close(self) -> None:
        self._open = False
        self._case.run_ended(self)
