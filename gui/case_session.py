"""The one door from the GUI to the open case: Qt signals over core's OpenCase, and every question or change the
windows, tools and jobs have. No other GUI module reaches the OpenCase; views subscribe to the signals and never
change an annotation behind the session's back.

Every change of the case (an edit, undo, redo, a prediction, a status) arrives from the OpenCase as one
SliceChange and leaves as signals: `mask_changed(index, region)` when pixels changed (region is the box to
repaint), `status_changed(index)` always, and `edited()` so the window schedules a draft. `history_changed()`
follows the case-wide history (core/workspace/history.py): every action is one entry, Ctrl+Z takes back the
latest entry of the case, whole, from whatever slice is on screen.

Which slices a program-made change may write is core's one rule (core/workspace/edit_rules.py): `targets` asks
it, `apply_many` (all at once) and `begin_run` (slice by slice) write through it as one history entry.
"""
from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.workspace import OpenCase, SliceChange, multi_slice
from core.calibration import GreyCalibration
from core.workspace.case_calibration import correct_calibration
from core.workspace.case_run import CaseRun
from core.workspace.edit_rules import Allow, EditKind
from core.workspace.history import HistoryEntry
from core.workspace.open_case import Operation, SavePlan
from core.workspace.review import ReviewPass


class CaseSession(QObject):
    mask_changed = Signal(int, object)  # slice index, changed region (row slice, col slice)
    status_changed = Signal(int)  # slice index whose status, confidence or saved state changed
    edited = Signal()  # something needs a draft
    history_changed = Signal()  # an entry was added, undone, redone, or grew

    def __init__(self, case: OpenCase, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case = case
        self.volume = case.volume
        self.current = case.last_slice
        self.review = ReviewPass()
        self._stroke = None
        self._stroke_text = ""
        case.add_listener(self._on_change)
        case.history.add_listener(self.history_changed.emit)

    def close(self, why: str = "another case was opened") -> None:
        """The case is no longer shown: runs still writing stop, the session stops listening."""
        self.end_stroke()
        self.case.stop_runs(why)
        self.case.remove_listener(self._on_change)
        self.case.history.remove_listener(self.history_changed.emit)

    # --- what the case is ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.case.record.display_name

    @property
    def case_id(self) -> str:
        return self.case.store.case_id

    @property
    def source(self) -> str | None:
        return self.case.record.source

    @property
    def store(self):
        """The case's folder (core.workspace.CaseStore): saved slices, drafts, case.json."""
        return self.case.store

    @property
    def opened_at(self) -> int | None:
        """The slice the user opened (one DICOM file of the series), to show first."""
        return self.case.opened_at

    @property
    def warnings(self) -> list[str]:
        return self.case.warnings

    @property
    def window(self):
        """The window/level the case was last shown with (None: never shown)."""
        return self.case.window

    @window.setter
    def window(self, window) -> None:
        self.case.window = window

    # --- slices --------------------------------------------------------------------------------------
    @property
    def num_slices(self) -> int:
        return self.case.num_slices

    @property
    def annotations(self) -> dict[int, SliceAnnotation]:
        return self.case.annotations

    def annotation(self, index: int | None = None) -> SliceAnnotation:
        """The slice's annotation (the current slice by default), created empty on first use."""
        return self.case.annotation(self.current if index is None else index)

    def status(self, index: int) -> SliceStatus:
        return self.case.status(index)

    def confidence(self, index: int) -> float | None:
        return self.case.confidence(index)

    def found_mandible(self, index: int) -> bool:
        return self.case.found_mandible(index)

    def is_unsaved(self, index: int) -> bool:
        return self.case.is_unsaved(index)

    def unsaved_indexes(self) -> list[int]:
        return self.case.unsaved_indexes()

    def unsaved_work(self) -> list[int]:
        """Unsaved slices holding a person's work: what closing asks about (never the model's predictions)."""
        return self.case.unsaved_work()

    def training_slices(self) -> list[int]:
        """Slices a person edited or reviewed ("done")."""
        return self.case.training_slices()

    def set_current(self, index: int) -> None:
        self.end_stroke()
        self.current = min(max(index, 0), self.num_slices - 1)
        self.case.last_slice = self.current

    def next_to_review(self) -> tuple[int | None, bool]:
        """U: the predicted slice to check next, least sure first, each once per pass (core/workspace/review.py);
        (slice, whether a new pass started)."""
        return self.review.next(self.case.review_order(), self.current)

    def _on_change(self, change: SliceChange) -> None:
        if change.region is not None:
            self.mask_changed.emit(change.index, change.region)
        self.status_changed.emit(change.index)
        self.edited.emit()

    # --- a person's edits (the tools' SliceEditor, gui/slice_editor.py) --------------------------------
    def edit(self, text: str, operation: Operation, index: int | None = None) -> bool:
        """One edit of a slice (the current one by default) as one history entry; False when nothing changed."""
        self.end_stroke()
        return self.case.edit(self.current if index is None else index, text, operation) is not None

    def begin_stroke(self, text: str, radius: float, value: int, hu_min: float | None = None) -> None:
        """A brush (value 1) or eraser (0) drag on the current slice; `hu_min` paints only above it."""
        self.end_stroke()
        hu = self.volume.hu[self.current] if hu_min is not None else None
        self._stroke = self.case.begin_stroke(self.current, radius, value, hu, hu_min)
        self._stroke_text = text

    def stroke_to(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._stroke.add_point(x, y)

    def end_stroke(self) -> None:
        if self._stroke is not None:
            self._stroke = None
            self.case.end_stroke(self._stroke_text)

    def toggle_reviewed(self) -> SliceStatus:
        """R: mark the current slice reviewed, or back to what its annotation says when it already was."""
        self.end_stroke()
        return self.case.toggle_reviewed(self.current)

    def mark_reviewed(self, indexes) -> list[int]:
        """Mark slices reviewed as one history entry; the slices that changed."""
        self.end_stroke()
        return self.case.mark_reviewed(indexes)

    def import_labels(self, labels: np.ndarray) -> list[int]:
        """Imported labels replace whole slices, as one history entry."""
        self.end_stroke()
        return self.case.import_labels(labels)

    # --- program-made changes of many slices (core's one rule decides which slices) --------------------
    def targets(self, kind: EditKind, indexes=None, allow: Allow = Allow()) -> list[int]:
        return self.case.targets(kind, indexes, allow)

    def apply_many(self, masks: dict[int, np.ndarray], kind: EditKind, text: str,
                   allow: Allow = Allow()) -> list[int]:
        """The one door for a change of many slices at once ({slice index: mask}, e.g. a 3-D click): written
        where the rule allows, one history entry; the slices written."""
        self.end_stroke()
        return self.case.apply_many(masks, kind, text, allow)

    def begin_run(self, kind: EditKind, text: str, allow: Allow = Allow(), on_stop=None) -> CaseRun:
        """A change whose slices arrive one by one (`run.write`, then `run.end()`), one history entry."""
        return self.case.begin_run(kind, text, allow, on_stop)

    def take_prediction(self, index: int, mask: np.ndarray, confidence: float | None = None,
                        allow: Allow = Allow()) -> bool:
        """A model's mask on one slice as one entry; False when the rule keeps the slice."""
        return self.case.apply_prediction(index, mask, confidence, allow)

    def correct_calibration(self, air: float, soft_tissue: float) -> GreyCalibration:
        """The user's two-point grey-value calibration of the open CT, recorded in case.json
        (core.workspace.case_calibration; CalibrationError or SaveError as it says)."""
        return correct_calibration(self.case, air, soft_tissue)

    def interpolate(self, around: int | None, allow: Allow = Allow()) -> list[int]:
        """N: fill between the anchors around slice `around` (or all) as one entry; the slices written."""
        self.end_stroke()
        return multi_slice.interpolate(self.case, around, allow)

    def propagation(self, start: int, step: int, allow: Allow = Allow(), cancel: threading.Event | None = None):
        """The proposals of propagating slice `start` (a generator safe in a worker; write them with a run)."""
        return multi_slice.propagation(self.case, start, step, allow, cancel=cancel)

    @property
    def unsegmented(self) -> list[int]:
        """Slices a Segment Whole Case stopped by a case switch did not reach."""
        return self.case.unsegmented

    @unsegmented.setter
    def unsegmented(self, indexes: list[int]) -> None:
        self.case.unsegmented = indexes

    # --- the case-wide history ----------------------------------------------------------------------
    def undo(self) -> HistoryEntry | None:
        """Ctrl+Z: take back the latest entry of the case, whole; None when there is nothing to undo."""
        self.end_stroke()
        return self.case.undo()

    def redo(self) -> HistoryEntry | None:
        self.end_stroke()
        return self.case.redo()

    @property
    def can_undo(self) -> bool:
        return self.case.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.case.history.can_redo

    def next_undo(self) -> HistoryEntry | None:
        return self.case.history.next_undo()

    def next_redo(self) -> HistoryEntry | None:
        return self.case.history.next_redo()

    def history_entries(self) -> tuple[HistoryEntry, ...]:
        return self.case.history.entries

    def history_position(self) -> int:
        """How many entries are applied (the rest were undone)."""
        return self.case.history.position

    def go_to_history(self, position: int) -> None:
        """Undo or redo until `position` entries are applied (the History list's click)."""
        while self.history_position() > position and self.undo() is not None:
            pass
        while self.history_position() < position and self.redo() is not None:
            pass

    # --- drafts and saving ---------------------------------------------------------------------------
    @property
    def has_pending_drafts(self) -> bool:
        return bool(self.case.pending_drafts)

    def write_drafts(self, max_seconds: float | None = None) -> list[int]:
        return self.case.write_drafts(max_seconds)

    def flush(self) -> None:
        self.case.flush()

    def prepare_save(self) -> SavePlan:
        return self.case.prepare_save()

    def finish_save(self, plan: SavePlan, result) -> None:
        self.case.finish_save(plan, result)

    def save(self):
        return self.case.save()
