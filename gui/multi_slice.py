"""Interpolate (N), propagate up and down (Shift+PgUp / Shift+PgDn, Esc stops) and the choice whether
they may replace predicted slices: the GUI of core.workspace.multi_slice.

Each run is ONE undo step over all the slices it wrote, pushed on the stack of the slice on screen when
it ends, so Ctrl+Z right afterwards takes it all back, statuses included. Undo and redo leave a slice
alone that was changed again since (its own stack holds that change), so they never overwrite later work.

Propagation runs in a worker (gui/workers.py); each slice it proposes is shown at once in every view and
the current slice follows it: that is the preview. Esc (or Stop) ends it; what was shown stays, and
Ctrl+Z removes it in one step.
"""
from __future__ import annotations

import queue

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from core.annotation.edits import MaskChange
from core.annotation.slice_annotation import SliceAnnotation
from core.workspace import multi_slice
from gui.actions import ActionSpec, Actions
from gui.case_session import CaseSession
from gui.workers import BackgroundTask

SPECS = (
    ActionSpec("interpolate", "I&nterpolate Between Edited Slices", ("N",), None, None,
               "Fill the slices between the nearest edited or reviewed slices around this one (or every gap) "
               "by shape-based interpolation; the filled slices are 'interpolated', not training data"),
    ActionSpec("propagate_up", "Propagate &Up", ("Shift+PgUp",), None, None,
               "Carry this slice's mask toward the head, slice by slice along the bone, until the bone ends; "
               "Esc stops"),
    ActionSpec("propagate_down", "Propagate &Down", ("Shift+PgDown",), None, None,
               "Carry this slice's mask toward the feet, slice by slice along the bone, until the bone ends; "
               "Esc stops"),
    ActionSpec("stop_propagation", "Stop Propagating", ("Esc",), None, None,
               "Stop the propagation; what it did so far stays (Ctrl+Z removes it in one step)"),
    ActionSpec("replace_predicted", "Interpolation and Propagation Replace &Predicted Slices", (), None, None,
               "Let interpolation and propagation write over the model's predictions too "
               "(edited and reviewed slices are never written)", checkable=True),
)
Applied = list[tuple[int, SliceAnnotation, MaskChange]]


def slice_range(indexes: list[int]) -> str:
    """Slice numbers as users see them (from 1): '41-49' or '7'."""
    low, high = min(indexes) + 1, max(indexes) + 1
    return f"{low}" if low == high else f"{low}–{high}"


class MultiSliceCommand(QUndoCommand):
    """One undo step over changes of many slices, already applied when pushed."""

    def __init__(self, applied: Applied, text: str) -> None:
        super().__init__(text)
        self.applied = applied
        self._applied_now = True

    def redo(self) -> None:
        if self._applied_now:
            self._applied_now = False
            return
        for _index, annotation, change in self.applied:
            if _holds(annotation, change.old, change.old_source, change):
                annotation.redo_change(change)

    def undo(self) -> None:
        for _index, annotation, change in reversed(self.applied):
            if _holds(annotation, change.new, change.new_source, change):
                annotation.undo_change(change)


def _holds(annotation: SliceAnnotation, pixels: np.ndarray, source, change: MaskChange) -> bool:
    """True when the slice is still as the change left it (or found it): nobody changed it since."""
    return annotation.source is source and np.array_equal(annotation.mask[change.bbox], pixels)


class MultiSlice(QObject):
    """The multi-slice actions of the window; `show_slice` moves the current slice (the SliceController's)."""

    message = Signal(str)  # for the status bar
    finished = Signal(str)  # a run ended; why

    def __init__(self, actions: Actions, show_slice, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show_slice = show_slice
        self.session: CaseSession | None = None
        self.task: BackgroundTask | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._applied: Applied = []
        self._text = ""
        self._stopped = False  # proposals still queued when the run was stopped are not shown
        slots = {"interpolate": self.interpolate, "propagate_up": lambda: self.propagate(-1),
                 "propagate_down": lambda: self.propagate(+1), "stop_propagation": self.stop,
                 "replace_predicted": lambda on: None}
        self.actions = actions.add_to_menu("&Edit", SPECS, slots)
        self.set_session(None)

    @property
    def replace_predicted(self) -> bool:
        return self.actions["replace_predicted"].isChecked()

    @property
    def running(self) -> bool:
        return self.task is not None

    def set_session(self, session: CaseSession | None) -> None:
        """Another case (or none): a running propagation is stopped and forgotten, nothing more is written."""
        self.stop()
        self.task, self._queue, self._applied = None, queue.SimpleQueue(), []
        self.session = session
        self._enable()

    # --- interpolation -------------------------------------------------------------------------------
    def interpolate(self) -> bool:
        """N: fill the gaps around the current slice (or all); False when nothing was filled."""
        session = self.session
        if session is None or self.running:
            return False
        session.end_stroke()
        applied = multi_slice.interpolate(session.case, session.current, self.replace_predicted)
        if not applied:
            self.message.emit("Nothing to interpolate: edit or review the slices at both ends of a gap first "
                              "(slices where the model found the mandible are kept unless 'Replace Predicted "
                              "Slices' is on).")
            return False
        self._push(applied, f"Interpolate slices {slice_range([i for i, _, _ in applied])}")
        return True

    # --- propagation ---------------------------------------------------------------------------------
    def propagate(self, step: int) -> bool:
        """Shift+PgUp (-1, toward the head) / Shift+PgDn (+1): start from the current slice."""
        session = self.session
        if session is None or self.running:
            return False
        session.end_stroke()
        start = session.current
        if not session.annotation(start).mask.any():
            self.message.emit(f"Slice {start + 1} has no mask to propagate; draw or correct it first.")
            return False
        case, replace, results = session.case, self.replace_predicted, self._queue

        def job(progress, cancel):
            found = multi_slice.propagation(case, start, step, replace, cancel=cancel)
            while True:
                try:
                    proposed = next(found)
                except StopIteration as stop:
                    return str(stop.value)
                results.put(proposed)
                progress(abs(proposed.index - start), 0, "")

        self._applied, self._stopped = [], False
        self._text = "Propagate " + ("up" if step < 0 else "down")
        self.task = task = BackgroundTask(job, "propagation", self)
        task.progress.connect(self._take_proposals)
        task.result.connect(lambda reason: self._end(task, f"stopped: {reason}"))
        task.cancelled.connect(lambda: self._end(task, "stopped by you"))
        task.failed.connect(lambda message: self._end(task, f"failed: {message}"))
        task.finished.connect(task.deleteLater)
        task.start()
        self._enable()
        self.message.emit(f"{self._text.capitalize()} from slice {start + 1}… (Esc stops)")
        return True

    def stop(self) -> None:
        """Esc: end a running propagation; what it wrote stays (one undo step)."""
        if self.task is not None:
            self._stopped = True
            self.task.cancel()

    def _take_proposals(self, *_progress) -> None:
        session = self.session
        while session is not None and self.task is not None and not self._stopped:
            try:
                proposed = self._queue.get_nowait()
            except queue.Empty:
                return
            change = session.case.carry(proposed.index, proposed.mask)
            if change is None and session.case.keeps(proposed.index):
                self.stop()  # a person took the slice meanwhile: go no further
                return
            if change is not None:
                self._applied.append((proposed.index, session.case.annotation(proposed.index), change))
            self.show_slice(proposed.index)

    def _end(self, task: BackgroundTask, why: str) -> None:
        if task is not self.task:
            return  # forgotten when the case changed
        self._take_proposals()
        self.task = None
        self._queue = queue.SimpleQueue()
        applied, self._applied = self._applied, []
        if applied and self.session is not None:
            self._push(applied, f"{self._text} to slices {slice_range([i for i, _, _ in applied])}")
        done = f"{self._text.capitalize()}: {len(applied)} slice(s), {why}"
        self._enable()
        self.message.emit(done)
        self.finished.emit(why)

    def _push(self, applied: Applied, text: str) -> None:
        session = self.session
        session.undo.stack(session.current).push(MultiSliceCommand(applied, text))
        self.message.emit(f"{text} (Ctrl+Z takes it back in one step)")

    def _enable(self) -> None:
        has_case = self.session is not None
        for key in ("interpolate", "propagate_up", "propagate_down"):
            self.actions[key].setEnabled(has_case and not self.running)
        self.actions["stop_propagation"].setEnabled(self.running)
