"""Interpolate (N), propagate up and down (Shift+PgUp / Shift+PgDn, Esc stops) and the choice whether
they may replace predicted slices: the GUI of core.workspace.multi_slice.

Each run is ONE entry of the case-wide history (core/workspace/history.py): interpolation through
`CaseSession.interpolate` (one `apply_many`), propagation through a `CaseRun` that writes each proposed slice as
it comes. Ctrl+Z on any slice takes the whole run back, statuses included; which slices a run may write is
core's one rule (core/workspace/edit_rules.py).

Propagation runs in a worker (gui/workers.py); each slice it proposes is shown at once in every view and
the current slice follows it: that is the preview. Esc (or Stop) ends it; what was shown stays, and
Ctrl+Z removes it in one step. Its summary stays in the status bar until the next message, and says when it
replaced predictions the model was sure about.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from core.annotation.propagation import PropagatedSlice
from core.annotation.slice_status import SliceStatus
from core.workspace.case_run import CaseRun
from core.workspace.edit_rules import Allow, EditKind
from core.workspace.history import slice_range
from gui.case_session import CaseSession
from gui.workers import BackgroundTask

# A prediction at least this sure that propagation replaced is named in the summary (issue 18 F).
SURE_PREDICTION = 0.9


class MultiSlice(QObject):
    """The callbacks of the multi-slice actions (gui/actions.py); `replace_predicted` is the checkable action
    that allows writing over predictions, `show_slice` moves the current slice (the SliceController's)."""

    message = Signal(str)  # for the status bar
    running_changed = Signal()  # a propagation started or ended: the actions' enable rules ask `running`
    finished = Signal(str)  # a run ended; why

    def __init__(self, replace_predicted: QAction, show_slice, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.replace_predicted = replace_predicted
        self.show_slice = show_slice
        self.session: CaseSession | None = None
        self.task: BackgroundTask | None = None
        self._run: CaseRun | None = None
        self._text = ""
        self._sure_replaced: list[int] = []  # predictions the model was sure about that the run replaced

    @property
    def allow(self) -> Allow:
        return Allow(predicted=self.replace_predicted.isChecked())

    @property
    def running(self) -> bool:
        return self.task is not None

    def set_session(self, session: CaseSession | None) -> None:
        """Another case (or none): a running propagation stops; what it wrote stays as its one history entry."""
        if self.task is not None:
            self._end(self.task, "stopped: another case was opened")
        self.session = session

    # --- interpolation -------------------------------------------------------------------------------
    def interpolate(self) -> bool:
        """N: fill the gaps around the current slice (or all); False when nothing was filled."""
        session = self.session
        if session is None or self.running:
            return False
        written = session.interpolate(session.current, self.allow)
        if not written:
            self.message.emit("Nothing to interpolate: edit or review the slices at both ends of a gap first "
                              "(slices where the model found the mandible are kept unless 'Replace Predicted "
                              "Slices' is on).")
            return False
        self.message.emit(f"Interpolated {slice_range(written)} (Ctrl+Z takes it back in one step)")
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
        allow = self.allow
        self._text = "Propagate " + ("up" if step < 0 else "down")
        self._sure_replaced = []
        self._run = session.begin_run(EditKind.PROPAGATION, self._text, allow, on_stop=lambda why: self.stop())
        # The core generator itself is the job: each proposal arrives as `yielded`, the cancel is checked at each.
        self.task = task = BackgroundTask(lambda progress, cancel: session.propagation(start, step, allow, cancel),
                                          "propagation", self)
        task.yielded.connect(lambda proposed: self._take_proposal(task, proposed))
        task.result.connect(lambda reason: self._end(task, f"stopped: {reason}"))
        task.cancelled.connect(lambda: self._end(task, "stopped by you"))
        task.failed.connect(lambda message: self._end(task, f"failed: {message}"))
        task.finished.connect(task.deleteLater)
        task.start()
        self.running_changed.emit()
        self.message.emit(f"{self._text} from slice {start + 1}… (Esc stops)")
        return True

    def stop(self) -> None:
        """Esc: end a running propagation; what it wrote stays (one history entry)."""
        if self.task is not None:
            self.task.cancel()

    def _take_proposal(self, task: BackgroundTask, proposed: PropagatedSlice) -> None:
        """A proposed slice of `task` arrived in the GUI thread: written through the run, and shown."""
        session, run = self.session, self._run
        if task is not self.task or session is None or run is None or not run.is_open:
            return
        index = proposed.index
        sure = (session.status(index) is SliceStatus.PREDICTED and session.found_mandible(index)
                and (session.confidence(index) or 0.0) >= SURE_PREDICTION)
        if not run.write(index, proposed.mask):
            self.stop()  # a person took the slice meanwhile: go no further
            return
        if sure:
            self._sure_replaced.append(index)
        self.show_slice(index)

    def _end(self, task: BackgroundTask, why: str) -> None:
        if task is not self.task:
            return  # already ended (the case changed)
        self.task = None
        run, self._run = self._run, None
        if run is not None and run.stopped == "undone":
            why = "stopped: you undid it"
        entry = run.end() if run is not None else None
        written = entry.indexes if entry is not None else []
        task.cancel()
        done = f"{self._text}: {len(written)} slice(s) ({slice_range(written)}), {why}"
        if written and run.stopped is None:
            done += "; Ctrl+Z takes it back in one step"
        if self._sure_replaced:
            done += (f". It replaced {len(self._sure_replaced)} prediction(s) the model was at least "
                     f"{round(SURE_PREDICTION * 100)}% sure about ({slice_range(self._sure_replaced)}): check them")
        self.running_changed.emit()
        self.message.emit(done)
        self.finished.emit(why)
