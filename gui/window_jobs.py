"""The window's own long jobs (opening a case, saving, importing labels, exporting a dataset), one at a time, on
the one runner (gui.workers), with the status bar's progress bar and a message while one runs."""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QProgressBar

from gui.workers import BackgroundTask


class WindowJobs(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.task: BackgroundTask | None = None
        self.progress = QProgressBar(maximumWidth=220, textVisible=True)
        self.progress.hide()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.is_running

    def free(self) -> bool:
        """True when no job runs; else False, and the status bar says to wait."""
        if self.busy:
            self._window.statusBar().showMessage("Still busy; wait for the current job to finish.", 4000)
        return not self.busy

    def run(self, job, title: str, on_result, on_failed) -> bool:
        """Run `job(progress, cancel)` with the progress bar; False (and a message) while another one runs."""
        if not self.free():
            return False
        self.task = task = BackgroundTask(job, title, self._window)
        task.finished.connect(lambda: self._forget(task))
        task.progress.connect(self._on_progress)
        for signal in (task.result, task.failed, task.cancelled):
            signal.connect(self.progress.hide)  # before the handlers, which may show dialogs
        task.result.connect(on_result)
        task.failed.connect(on_failed)
        self.progress.setRange(0, 0)
        self.progress.setFormat(title)
        self.progress.show()
        self._window.statusBar().showMessage(title + "…")
        task.start()
        return True

    def _forget(self, task: BackgroundTask) -> None:
        if self.task is task:
            self.task = None
        task.deleteLater()

    def _on_progress(self, step: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(step)
        self._window.statusBar().showMessage(message)
