"""Run core's long jobs off the GUI thread and turn them into Qt signals.

A job is a plain callable ``job(progress, cancel) -> result`` where ``progress(step, total, message)``
is core's progress callback and ``cancel`` a ``threading.Event`` that core checks at each step.

The worker lives in its own QThread (``worker.moveToThread(thread)``, ``thread.started -> worker.run``,
``finished -> thread.quit / deleteLater``). Exceptions never escape: a MandibleStudioError becomes
``failed(message)``, anything else ``failed`` with a short explanation, and Cancelled becomes ``cancelled``.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.errors import Cancelled, MandibleStudioError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
Job = Callable[[ProgressFn, threading.Event], Any]


class Worker(QObject):
    """Runs one job in a QThread; emits progress, result, failed, cancelled and finished (always last)."""

    progress = Signal(int, int, str)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, job: Job, name: str = "job") -> None:
        super().__init__()
        self._job = job
        self.name = name
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: core sees the flag at its next step and raises Cancelled."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        try:
            value = self._job(self._emit_progress, self.cancel_event)
        except Cancelled:
            self.cancelled.emit()
        except MandibleStudioError as exc:
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit(f"{self.name}: not enough memory. Close other programs or open a smaller series.")
        except Exception as exc:  # a bug or an unexpected file: report, never crash the app
            log.exception("%s failed", self.name)
            self.failed.emit(f"{self.name} failed unexpectedly: {type(exc).__name__}: {exc}")
        else:
            if self.cancel_event.is_set():
                self.cancelled.emit()
            else:
                self.result.emit(value)
        finally:
            self.finished.emit()

    def _emit_progress(self, step: int, total: int, message: str = "") -> None:
        self.progress.emit(int(step), int(total), str(message))


class BackgroundTask(QObject):
    """The GUI-thread face of a Worker: connect any callable to its signals, then ``start()``.

    The Worker's signals are relayed through this object, which lives in the GUI thread, so slots
    (lambdas included) always run in the GUI thread.
    """

    progress = Signal(int, int, str)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, job: Job, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._worker = Worker(job, name)
        self._thread = QThread()
        self._thread.setObjectName(f"worker:{name}")
        self._worker.moveToThread(self._thread)
        self._worker.progress.connect(self.progress)
        # The outcome first marks the task as done, so a handler may start the next task right away.
        self._worker.result.connect(self._on_result)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        # quit() is thread-safe: ending the thread's loop from the worker thread itself means
        # wait() returns even while the GUI thread is blocked and cannot run queued slots.
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._worker.finished.connect(self._on_worker_finished)
        self._thread.started.connect(self._worker.run)
        self._running = False

    def start(self) -> None:
        self._running = True
        self._thread.start()

    def cancel(self) -> None:
        self._worker.cancel()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the thread has ended (used when closing the app)."""
        return self._thread.wait(msecs)

    @property
    def is_running(self) -> bool:
        """True from start() until the job's outcome (result, failed or cancelled) is delivered."""
        return self._running

    @Slot(object)
    def _on_result(self, value) -> None:
        self._running = False
        self.result.emit(value)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._running = False
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._running = False
        self.cancelled.emit()

    @Slot()
    def _on_worker_finished(self) -> None:
        self._thread.wait()
        self._running = False
        self.finished.emit()
