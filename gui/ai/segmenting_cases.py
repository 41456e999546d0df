"""Segment Cases…: segment the cases selected in the case list, in the background, with one model load, progress
and Cancel in the status bar, and a summary at the end.

Each case that is not open is segmented by core (core/commands/segment_cases.py): its predictions go through
the case's own door, so what a person edited or reviewed is kept, and end as drafts, as Segment Whole Case
leaves them. The case open in the window is given to Segment Whole Case itself once the others are done, so
its predictions arrive in the open session as undoable steps. While the run lasts, a case it has not finished
cannot be opened from the list (`blocks_opening`); one opened by another route while it is being segmented is
not written (core's CaseBusy) and the summary says so. Cancel keeps the cases and slices done.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QMessageBox, QProgressBar, QToolButton, QWidget

from core.commands.predict_batch import BatchCase, CaseOutcome, run_case
from core.commands.segment_cases import CaseBusy, segment_stored_case
from core.workspace import Workspace
from gui import dialogs
from gui.ai.jobs import make_ai_task
from gui.ai.segmenting import Segmenting
from gui.panels.case_list import CaseList
from gui.window_actions import Actions

def ask_segment_cases(parent: QWidget, names: list[str]) -> tuple[bool, bool]:
    """(start, also replace slices a person edited or reviewed)."""
    listing = "\n".join(f"• {name}" for name in names[:12]) + (f"\n… and {len(names) - 12} more" if len(names) > 12
                                                              else "")
    box = QMessageBox(QMessageBox.Icon.Question, "Segment cases",
                      f"Segment {len(names)} case(s) with the active model?\n\n{listing}\n\nThe predictions are "
                      "kept as unsaved drafts of each case, to check and save when you open it.", parent=parent)
    replace = QCheckBox("Also replace slices a person edited or reviewed")
    box.setCheckBox(replace)
    start = box.addButton("Segment", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is start, replace.isChecked()


class SegmentingCases(QObject):
    finished = Signal(list)  # the CaseOutcome of every case run in the background

    def __init__(self, window, workspace: Workspace, actions: Actions, case_list: CaseList,
                 segmenting: Segmenting) -> None:
        super().__init__(window)
        self._window, self._workspace, self._case_list, self._segmenting = window, workspace, case_list, segmenting
        self.actions = actions  # the window's (Segment Selected Cases… in gui/actions.py calls segment_selected)
        case_list.segment_requested.connect(self.segment_selected)
        self.task = None
        self._lock = threading.Lock()  # guards the two sets below, shared with the worker
        self._pending: set[str] = set()  # cases of the run not finished yet
        self._opened: set[str] = set()  # cases the window opened during the run: the run leaves them alone
        self._open_case_last: str | None = None
        self._overwrite = False
        self._build_job_bar()

    @property
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running

    def _build_job_bar(self) -> None:
        self.job_bar = QWidget(objectName="casesJobBar")
        layout = QHBoxLayout(self.job_bar)
        layout.setContentsMargins(0, 0, 0, 0)
        self.job_progress = QProgressBar(objectName="casesJobProgress", maximumWidth=260, textVisible=True)
        self.job_cancel = QToolButton(objectName="casesJobCancel", text="Cancel")
        self.job_cancel.setToolTip("Stop segmenting cases; the cases and slices done are kept")
        self.job_cancel.clicked.connect(self.cancel)
        layout.addWidget(self.job_progress)
        layout.addWidget(self.job_cancel)
        self._window.statusBar().addPermanentWidget(self.job_bar)
        self.job_bar.hide()

    # --- what the window asks ---------------------------------------------------------------------------
    def blocks_opening(self, path) -> str | None:
        """Why `path` cannot be opened now (a case this run has not finished), or None."""
        with self._lock:
            pending = set(self._pending)
        if not pending:
            return None
        wanted = str(Path(path).resolve())
        for record in self._workspace.cases():
            if record.case_id in pending and record.source == wanted:
                return (f"{record.display_name} is waiting to be segmented (Segment Cases…). Open it when the "
                        "run is done, or cancel the run: the cases done so far are kept.")
        return None

    def case_opened(self, case_id: str) -> None:
        """The window opened a case: the run leaves it alone from now on."""
        with self._lock:
            self._opened.add(case_id)

    # --- running --------------------------------------------------------------------------------------------
    def segment_selected(self) -> bool:
        """Ask, then segment the cases selected in the case list; False when nothing started."""
        records = {r.case_id: r for r in self._workspace.cases()}
        ids = [i for i in self._case_list.selected_case_ids() if i in records]
        if self.is_running or not ids:
            return False
        start, overwrite = ask_segment_cases(self._window, [records[i].display_name for i in ids])
        model = self._segmenting.active_model() if start else None
        if model is None:
            return False
        session = self._segmenting.session
        open_id = session.case_id if session is not None else None
        self._open_case_last, self._overwrite = (open_id if open_id in ids else None), overwrite
        others = [(i, BatchCase(records[i].display_name, Path(records[i].source or ""))) for i in ids if i != open_id]
        if not others:
            return self._segmenting.segment_case(overwrite=overwrite)
        self._start(model, others, overwrite)
        return True

    def _start(self, model: Path, cases: list[tuple[str, BatchCase]], overwrite: bool) -> None:
        with self._lock:
            self._pending, self._opened = {case_id for case_id, _ in cases}, set()
        policy, cache, workspace = self._segmenting.predict.policy, self._segmenting.predict.cache, self._workspace

        def job(progress, cancel: threading.Event) -> list[CaseOutcome]:
            segmenter = cache.get(model)  # one model load for every case (and shared with Segment Whole Case)
            outcomes = []
            for number, (case_id, case) in enumerate(cases, 1):
                def slices(step: int, total: int, message: str, number=number) -> None:
                    progress(step, total, f"Case {number} of {len(cases)}: {message}")

                def segment(case: BatchCase, case_id=case_id, slices=slices) -> tuple[int, int]:
                    if self._opened_during_run(case_id):
                        raise CaseBusy(f"{case.name} was opened in the window before its turn; use Segment Whole "
                                       "Case there")
                    return segment_stored_case(workspace, case_id, segmenter, policy, overwrite, slices, cancel,
                                               may_write=lambda: not self._opened_during_run(case_id))
                outcomes.append(run_case(case, segment))
                with self._lock:
                    self._pending.discard(case_id)
            return outcomes

        self.task = make_ai_task(job, f"Segmenting {len(cases)} case(s)", self)
        self.task.progress.connect(self._on_progress)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(lambda message: dialogs.show_error(self._window, "Segment cases failed", message))
        self.task.cancelled.connect(lambda: self._window.statusBar().showMessage(
            "Segment Cases cancelled; the cases and slices done are kept as drafts", 10000))
        self.task.finished.connect(self._on_finished)
        self.job_progress.setRange(0, 0)
        self.job_progress.setFormat(f"Segmenting {len(cases)} case(s)")
        self.job_bar.show()
        self.task.start()

    def _opened_during_run(self, case_id: str) -> bool:
        with self._lock:
            return case_id in self._opened

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_progress(self, step: int, total: int, message: str) -> None:
        self.job_progress.setRange(0, max(1, total))
        self.job_progress.setValue(step)
        self.job_progress.setFormat(message.split(":")[0] + ": %v / %m slices")
        self._window.statusBar().showMessage(message)

    def _on_result(self, outcomes: list[CaseOutcome]) -> None:
        failed = [o for o in outcomes if o.status == "failed"]
        slices = sum(o.slices for o in outcomes)
        text = f"Segmented {len(outcomes) - len(failed)} case(s), {slices} slice(s)"
        self._window.statusBar().showMessage(text + (f"; {len(failed)} failed" if failed else ""), 10000)
        if failed:
            dialogs.show_warnings(self._window, "Some cases were not segmented",
                                  [f"{o.case.name}: {o.message}" for o in failed])
        self.finished.emit(outcomes)
        session = self._segmenting.session
        if self._open_case_last is not None and session is not None \
                and session.case_id == self._open_case_last:
            self._segmenting.segment_case(overwrite=self._overwrite)

    def _on_finished(self) -> None:
        self.job_bar.hide()
        with self._lock:
            self._pending = set()
