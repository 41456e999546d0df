"""A small stand-in for the main window and its session, for GUI component tests without MainWindow: a real
OpenCase on a small synthetic CT, and a plain QMainWindow that runs the window's jobs (gui/window_jobs.py)."""
from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from core.annotation.slice_status import SliceStatus
from core.workspace import OpenCase
from gui.window_jobs import WindowJobs


class FakeSession:
    """What the export and AI components read of gui.case_session.CaseSession."""

    def __init__(self, case: OpenCase) -> None:
        self.case = case
        self.volume = case.volume
        self.current = case.last_slice

    @property
    def name(self) -> str:
        return self.case.record.display_name

    @property
    def case_id(self) -> str:
        return self.case.store.case_id

    @property
    def store(self):
        return self.case.store

    def unsaved_indexes(self) -> list[int]:
        return self.case.unsaved_indexes()

    @property
    def annotations(self):
        return self.case.annotations

    def status(self, index: int) -> SliceStatus:
        return self.case.status(index)

    @property
    def num_slices(self) -> int:
        return self.case.num_slices


class FakeWindow(QMainWindow):
    """The window's part the components use: its session, and its one long job at a time."""

    def __init__(self, case: OpenCase | None = None) -> None:
        super().__init__()
        self.session = FakeSession(case) if case is not None else None
        self.jobs = WindowJobs(self)
        self.statusBar().addPermanentWidget(self.jobs.progress)

    def run_job(self, job, title: str, on_result, on_failed) -> bool:
        return self.jobs.run(job, title, on_result, on_failed)
