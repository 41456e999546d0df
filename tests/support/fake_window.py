"""A small stand-in for the main window, for GUI component tests without MainWindow: a plain QMainWindow with a
real CaseSession over an OpenCase on a small CT, running the window's jobs one at a time (gui/window_jobs.py)."""
from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from core.workspace import OpenCase
from gui.case_session import CaseSession
from gui.window_jobs import WindowJobs


class FakeWindow(QMainWindow):
    """The window's part the components use: its session, and its one long job at a time."""

    def __init__(self, case: OpenCase | None = None) -> None:
        super().__init__()
        self.session = CaseSession(case, self) if case is not None else None
        self.jobs = WindowJobs(self)
        self.statusBar().addPermanentWidget(self.jobs.progress)

    def run_job(self, job, title: str, on_result, on_failed) -> bool:
        return self.jobs.run(job, title, on_result, on_failed)
