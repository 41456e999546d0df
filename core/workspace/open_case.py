"""The case a user works on, without Qt: its annotations, slice statuses, the model's predictions with their
confidence, and the case-wide history of what was done (core/workspace/history.py).

Every change of a slice reaches the listeners as one SliceChange: `region` is the box of mask pixels that
changed (an empty box when only the annotation's source changed), None when only the status, the
confidence or the saved state changed. A view repaints just that box.

The doors, each one user action and one history entry: `edit`, `begin_stroke`/`end_stroke` (a person's edit of a
slice, never refused); `toggle_reviewed`, `mark_reviewed`, `import_labels`; `apply_many` (all at once) and
`begin_run` (slice by slice) for a program-made change of many slices, written only where the one rule of
core/workspace/edit_rules.py allows (`targets` asks it); `undo` / `redo` (the latest entry, whole, from any slice).

A slice's status follows its annotation's source after every change, except that REVIEWED stays until the user
toggles it off (decisions 045, 180, 181). Every change queues the slice for a draft; drafts, case.json and saves
are core/workspace/case_saving.py.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.annotation.edits import MaskChange, Region
from core.annotation.slice_annotation import BrushStroke, SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.errors import InputError
from core.volume import Volume
from core.windowing import Window
from core.workspace.case_record import CaseRecord
from core.workspace.case_run import CaseRun
from core.workspace.case_saving import CaseSaving, SavePlan  # noqa: F401 (SavePlan: part of this module's API)
from core.workspace.case_store import CaseContent, CaseStore, put_status
from core.workspace.edit_rules import Allow, EditKind, may_write
from core.workspace.history import CaseHistory, HistoryEntry, SliceEdit, SliceState
from core.workspace.review import review_order


@dataclass(frozen=True)
class SliceChange:
    """What changed on one slice; region None: only its status, confidence or saved state."""

    index: int
    region: Region | None = None


Listener = Callable[[SliceChange], None]
Operation = Callable[[SliceAnnotation], "MaskChange | None"]
# A slice's human work that is not saved yet: what the quit question asks about (never the model's predictions).
HUMAN_WORK = (SliceStatus.EDITED, SliceStatus.REVIEWED, SliceStatus.INTERPOLATED, SliceStatus.PROPAGATED)


class OpenCase(CaseSaving):
    """One open case. Build it with `OpenCase(volume, store)`; it reads what the store holds."""

    def __init__(self, volume: Volume, store: CaseStore, content: CaseContent | None = None) -> None:
        content = store.load(volume.shape) if content is None else content
        self.volume, self.store = volume, store
        self.annotations: dict[int, SliceAnnotation] = {}
        self.warnings = list(content.warnings)
        self.pending_drafts: set[int] = set()
        self.history = CaseHistory()
        self.opened_at: int | None = None  # the slice the user opened (one DICOM file): shown first
        self._statuses = dict(content.statuses)
        self._confidences = dict(content.confidences)
        self._new_version = itertools.count(1)
        self._versions = {index: next(self._new_version) for index in content.drafts}  # drafts: not saved
        self._saved_versions: dict[int, int] = {}  # 0 (the default) is what the case folder holds
        self._runs: list[CaseRun] = []
        self._stroke: tuple[int, BrushStroke, SliceState] | None = None
        self._listeners: list[Listener] = []
        self._slice_listeners: dict[int, Callable] = {}
        self._last_slice = min(max(store.record.last_slice, 0), volume.num_slices - 1)
        self._window = Window(*store.record.window) if store.record.window else None
        self._unsegmented = [i for i in store.record.unsegmented if 0 <= i < volume.num_slices]
        self._record_changed = content.record_changed
        for index, annotation in content.annotations.items():
            self._adopt(index, annotation)

    # -- reading -------------------------------------------------------------------------------
    @property
    def num_slices(self) -> int:
        return self.volume.num_slices

    @property
    def record(self) -> CaseRecord:
        return self.store.record

    def annotation(self, index: int) -> SliceAnnotation:
        """The slice's annotation, created empty on first use."""
        self._check_index(index)
        if index not in self.annotations:
            self._adopt(index, SliceAnnotation(*self.volume.shape[1:]))
        return self.annotations[index]

    def status(self, index: int) -> SliceStatus:
        return self._statuses.get(index, SliceStatus.EMPTY)

    def statuses(self) -> list[SliceStatus]:
        return [self.status(i) for i in range(self.num_slices)]

    def confidence(self, index: int) -> float | None:
        """How sure the model was on its last prediction of this slice (core/inference/confidence.py)."""
        return self._confidences.get(index)

    def found_mandible(self, index: int) -> bool:
        annotation = self.annotations.get(index)
        return annotation is not None and not annotation.is_empty

    def unsaved_work(self) -> list[int]:
        """Unsaved slices that hold a person's work (edited, reviewed, interpolated, propagated): what closing
        asks about. Unsaved predictions are kept as drafts without a question (decision 182)."""
        return [i for i in self.unsaved_indexes() if self.status(i) in HUMAN_WORK]

    def training_slices(self) -> list[int]:
        """Slices a human EDITED or REVIEWED (training data once saved)."""
        return sorted(i for i, s in self._statuses.items() if s.is_training_data)

    def review_order(self) -> list[int]:
        """The predicted slices, the one the model was least sure about first (core/workspace/review.py)."""
        return review_order(self.statuses(), self._confidences)

    # -- where the user was ------------------------------------------------------------------
    @property
    def last_slice(self) -> int:
        return self._last_slice

    @last_slice.setter
    def last_slice(self, index: int) -> None:
        self._check_index(index)
        if index != self._last_slice:
            self._last_slice = int(index)
            self._record_changed = True

    @property
    def window(self) -> Window | None:
        return self._window

    @window.setter
    def window(self, window: Window) -> None:
        if window != self._window:
            self._window = window
            self._record_changed = True

    @property
    def unsegmented(self) -> list[int]:
        """Slices a Segment Whole Case stopped by a case switch did not reach (to resume); kept in case.json."""
        return list(self._unsegmented)

    @unsegmented.setter
    def unsegmented(self, indexes: list[int]) -> None:
        indexes = sorted(int(i) for i in indexes)
        if indexes != self._unsegmented:
            self._unsegmented = indexes
            self._record_changed = True

    # -- the one rule ---------------------------------------------------------------------------
    def may_write(self, kind: EditKind, index: int, allow: Allow = Allow()) -> bool:
        """May an edit of `kind` write this slice now? (core/workspace/edit_rules.py)"""
        annotation = self.annotations.get(index)
        return may_write(kind, self.status(index), self.found_mandible(index),
                         annotation is not None and annotation.stroke_open, allow)

    def targets(self, kind: EditKind, indexes=None, allow: Allow = Allow()) -> list[int]:
        """The slices of `indexes` (default: all) an edit of `kind` may write now."""
        indexes = range(self.num_slices) if indexes is None else indexes
        return [i for i in indexes if self.may_write(kind, i, allow)]

    # -- a person's edits ---------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def edit(self, index: int, text: str, operation: Operation) -> MaskChange | None:
        """A person's edit of one slice: `operation(annotation)` applies it and returns its change; one history
        entry. None when it changed nothing."""
        before = self.slice_state(index)
        change = operation(self.annotation(index))
        if change is not None:
            self._push(text, [SliceEdit(index, change, before, self.slice_state(index))])
        return change

    def begin_stroke(self, index: int, radius: float, value: int, hu: np.ndarray | None = None,
                     hu_min: float | None = None) -> BrushStroke:
        """A brush (value 1) or eraser (0) drag on one slice; paint with `add_point`, then `end_stroke`."""
        if self._stroke is not None:
            raise RuntimeError("a brush stroke is already in progress; end it first")
        before = self.slice_state(index)
        stroke = self.annotation(index).begin_stroke(radius, value, hu, hu_min)
        self._stroke = (index, stroke, before)
        return stroke

    def end_stroke(self, text: str) -> MaskChange | None:
        """End the open stroke: the whole drag is one history entry (None when it painted nothing)."""
        if self._stroke is None:
            return None
        index, stroke, before = self._stroke
        self._stroke = None
        change = stroke.finish()
        if change is not None:
            self._push(text, [SliceEdit(index, change, before, self.slice_state(index))])
        return change

    def toggle_reviewed(self, index: int) -> SliceStatus:
        """Mark a slice REVIEWED (training data), or back to what its annotation says when it already was."""
        reviewed = self.status(index) is not SliceStatus.REVIEWED
        self.mark_reviewed([index], reviewed)
        return self.status(index)

    def mark_reviewed(self, indexes, reviewed: bool = True) -> list[int]:
        """Mark slices REVIEWED (or, `reviewed` False, back to what their annotations say) as one entry; the
        slices whose status changed."""
        edits = []
        for index in sorted(set(indexes)):
            before = self.slice_state(index)
            status = SliceStatus.REVIEWED if reviewed else self.annotation(index).source
            if status is before.status:
                continue
            self._set_status(index, status)
            self._touch(index)
            self._notify_status(index)
            edits.append(SliceEdit(index, None, before, self.slice_state(index)))
        if edits:
            self._push("Mark reviewed" if reviewed else "Unmark reviewed", edits)
        return [edit.index for edit in edits]

    def import_labels(self, labels: np.ndarray) -> list[int]:
        """Human labels for the whole volume (a NIfTI label map, a Labelme folder) replace the slices they cover,
        as one entry.

        Each slice with label pixels becomes EDITED (training data) and unsaved; slices without label pixels
        are left as they are (an empty slice of a label map does not say a human checked it).
        """
        labels = np.asarray(labels)
        if labels.shape != self.volume.shape:
            raise InputError(f"the label volume is {labels.shape} but the CT is {self.volume.shape}; "
                             "choose the labels of this scan")
        indexes = [int(i) for i in np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))]
        edits = []
        for index in indexes:
            before = self.slice_state(index)
            change = self.annotation(index).set_labels(labels[index])
            if self.status(index) is not SliceStatus.EDITED:
                self._set_status(index, SliceStatus.EDITED)
                self._touch(index)
                self._notify_status(index)
            edits.append(SliceEdit(index, change, before, self.slice_state(index)))
        if edits:
            self._push("Import labels", edits)
        return indexes

    # -- program-made changes of many slices -------------------------------------------------------
    def begin_run(self, kind: EditKind, text: str, allow: Allow = Allow(),
                  on_stop: Callable[[str], None] | None = None) -> CaseRun:
        """A change of many slices that arrive one by one (`CaseRun.write`), ONE history entry; `on_stop(why)`
        is called when the case stops it (undone, or the case closes)."""
        run = CaseRun(self, kind, text, allow, on_stop)
        self._runs.append(run)
        return run

    def apply_many(self, masks: dict[int, np.ndarray], kind: EditKind, text: str,
                   allow: Allow = Allow()) -> list[int]:
        """Write {slice index: mask} where the rule allows, as ONE history entry; the slices written."""
        run = self.begin_run(kind, text, allow)
        written = [index for index in sorted(masks) if run.write(index, masks[index])]
        run.end()
        return written

    def apply_prediction(self, index: int, mask: np.ndarray, confidence: float | None = None,
                         allow: Allow = Allow()) -> bool:
        """A model's mask on one slice as one entry (Segment This Slice); False when the rule keeps the slice."""
        run = self.begin_run(EditKind.PREDICTION, "Segment slice", allow)
        written = run.write(index, mask, confidence)
        run.end()
        return written

    def stop_runs(self, why: str) -> None:
        """The case is closing: every run still writing stops (its owner hears `why`)."""
        for run in list(self._runs):
            run.stop(why)

    # -- undo and redo --------------------------------------------------------------------------
    def undo(self) -> HistoryEntry | None:
        """Take back the latest entry, whole (a run still writing it is stopped first); None: nothing to undo."""
        entry = self.history.next_undo()
        if entry is None:
            return None
        for run in [r for r in self._runs if r.entry is entry]:
            run.stop("undone")
        self.history.step_back()
        for edit in reversed(list(entry.edits.values())):
            self._restore(edit.index, edit.change, edit.before, undo=True)
        self._taken(entry.indexes)
        return entry

    def redo(self) -> HistoryEntry | None:
        """Re-apply the latest undone entry, whole; None: nothing to redo."""
        if not self.history.can_redo:
            return None
        entry = self.history.step_forward()
        for edit in entry.edits.values():
            self._restore(edit.index, edit.change, edit.after, undo=False)
        self._taken(entry.indexes)
        return entry

    # -- what runs and entries use ----------------------------------------------------------------
    def slice_state(self, index: int) -> SliceState:
        return SliceState(self.status(index), self._confidences.get(index), self._versions.get(index, 0))

    def write_slice(self, kind: EditKind, index: int, mask: np.ndarray,
                    confidence: float | None) -> MaskChange | None:
        """Put a program-made mask on a slice (the caller asked the rule): a prediction becomes PREDICTED with
        its confidence, interpolation INTERPOLATED, propagation PROPAGATED, a click a person's EDITED pixels."""
        annotation = self.annotation(index)
        if kind is EditKind.PREDICTION:
            if confidence is not None and self._confidences.get(index) != float(confidence):
                self._confidences[index] = float(confidence)
                self._record_changed = True
                self._notify_status(index)
            if self.status(index) is SliceStatus.REVIEWED:
                self._set_status(index, SliceStatus.PREDICTED)
            change = annotation.set_predicted(mask)
        elif kind is EditKind.CLICK:
            change = annotation.set_mask(mask)
        else:
            change = annotation.set_carried(mask, kind.status)
        if change is None and self.status(index) is not kind.status:
            self._set_status(index, kind.status)
            self._touch(index)
            self._notify_status(index)
        return change

    def push_entry(self, entry: HistoryEntry, by: CaseRun | None = None) -> None:
        """A new entry (a run's, at its first slice): open runs other than `by` leave its slices alone."""
        self.history.push(entry)
        self._taken(entry.indexes, by)

    def run_ended(self, run: CaseRun) -> None:
        if run in self._runs:
            self._runs.remove(run)

    # -- internals -----------------------------------------------------------------------------
    def _push(self, text: str, edits: list[SliceEdit]) -> None:
        self.push_entry(HistoryEntry(text, {edit.index: edit for edit in edits}))

    def _taken(self, indexes: list[int], by: CaseRun | None = None) -> None:
        """Another action changed these slices: a run still writing keeps off them, so that undo and redo, which
        go entry by entry, always find each slice as the entry left it."""
        for run in self._runs:
            if run is not by:
                run.keep_off(indexes)

    def _restore(self, index: int, change: MaskChange | None, state: SliceState, undo: bool) -> None:
        annotation = self.annotation(index)
        if change is not None:
            (annotation.undo_change if undo else annotation.redo_change)(change)
        self._set_status(index, state.status)
        if state.confidence is None:
            self._confidences.pop(index, None)
        else:
            self._confidences[index] = state.confidence
        self._record_changed = True
        self._versions[index] = state.version
        self.pending_drafts.add(index)
        self._notify_status(index)

    def _adopt(self, index: int, annotation: SliceAnnotation) -> None:
        listener = lambda region, i=index: self._on_annotation_changed(i, region)  # noqa: E731
        annotation.add_listener(listener)
        self._slice_listeners[index] = listener
        self.annotations[index] = annotation

    def _on_annotation_changed(self, index: int, region: Region) -> None:
        if self.status(index) is not SliceStatus.REVIEWED:
            self._set_status(index, self.annotations[index].source)
        self._touch(index)
        self._notify(SliceChange(index, region))

    def _set_status(self, index: int, status: SliceStatus) -> None:
        if put_status(self._statuses, index, status):
            self._record_changed = True

    def _touch(self, index: int) -> None:
        self._versions[index] = next(self._new_version)
        self.pending_drafts.add(index)

    def _notify_status(self, index: int) -> None:
        self._notify(SliceChange(index))

    def _notify(self, change: SliceChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.num_slices:
            raise IndexError(f"slice {index} is outside 0..{self.num_slices - 1}")
