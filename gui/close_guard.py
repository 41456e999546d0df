"""The window's one close path: every question is asked before anything is done, so Cancel in any of them
leaves everything as it was (decision 145).

  1. questions: a running AI job ("Training is still running. Stop it and close?"), then unsaved work
     (Save / Close, Keep for Later / Cancel); any "no" or Cancel ends here and the window stays open;
  2. the work: save, or keep the draft; if that fails the window stays open, the jobs still run;
  3. the jobs stop (and the window's own loading or saving task), then whatever arrived meanwhile is
     kept as a draft, and the last slice and window are remembered.
"""
from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QMessageBox, QWidget

from gui import dialogs

TASK_WAIT_MS = 5000


class Jobs(Protocol):
    def running_job(self) -> str | None: ...
    def shutdown(self) -> bool: ...


def ask_cancel_jobs(parent: QWidget, what: str) -> bool:
    answer = QMessageBox.question(parent, "AI job running", f"{what} is still running. Stop it and close?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def may_close(window, jobs: Jobs) -> bool:
    """Run the close path for `window` (MainWindow); True when the window may close."""
    running = jobs.running_job()
    if running is not None and not ask_cancel_jobs(window, running):
        return False
    unsaved = window.session.unsaved_work() if window.session is not None else []  # predictions: kept as a draft
    answer = dialogs.ask_save_changes(window, len(unsaved)) if unsaved else None
    if answer == "cancel":
        return False
    if answer == "save" and not window.save_now():
        return False
    if answer == "keep" and not window.keep_draft(then="close"):
        return False
    if window.task is not None:  # opening or saving in the background
        window.task.cancel()
        window.task.wait(TASK_WAIT_MS)
    jobs.shutdown()
    window.autosave_now()  # predictions that arrived while the jobs ended
    window.remember_view_state()
    return True
