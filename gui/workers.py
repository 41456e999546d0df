"""The one runner of core's long jobs off the GUI thread: their items, progress and outcome as Qt signals.

A job is a callable ``job(progress, cancel)`` where ``progress(step, total, message)`` is core's progress
callback and ``cancel`` a ``threading.Event`` that core checks at each step. It returns its result, or a
generator (a core generator such as ``Segmenter.predict`` or ``retrain``): then, as superqt's
``GeneratorWorker`` does, the worker runs it with ``gen.send``, emits each item as ``yielded(item)``, checks
the cancel at every yield (and closes the generator when it is set), and the generator's return value is the
``result``. Items reach the GUI thread queued, in order, before the outcome.

The worker lives in its own QThread (``worker.moveToThread(thread)``, ``thread.started -> worker.run``,
``finished -> thread.quit``). Exceptions never escape: a MandibleStudioError becomes ``failed(message)``,
anything else ``failed`` with a short explanation, and Cancelled becomes ``cancelled``.

Lifetime (docs/decisions/150, 151): a task's QThread and Worker belong to Python, not to a Qt parent, and
are let go only in the GUI thread, after the thread has ended. Every started task stays in a registry until
then, also when its owner (window, controller, dialog) is destroyed first: the owner's destruction cancels
the job, its signals reach no one, and the thread object lives until the job has noticed the cancel (Qt
aborts the process when a running QThread is destroyed). ``join_all`` cancels and joins every task (at exit,
and after each GUI test). ``GuiThreadCollector`` runs Python's cyclic garbage collector only in the GUI
thread, so a worker thread never destroys a Qt object that belongs to the GUI thread.
"""
from __future__ import annotations

import atexit
import gc
import inspect
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from shiboken6 import Shiboken

from core.errors import Cancelled, MandibleStudioError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
Job = Callable[[ProgressFn, threading.Event], Any]
EXIT_WAIT_MS = 30_000
GC_INTERVAL_MS = 500


class Worker(QObject):
    """Runs one job in a QThread; emits progress, yielded, result, failed, cancelled and finished (always last)."""

    progress = Signal(int, int, str)
    yielded = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, job: Job, name: str = "job") -> None:
        super().__init__()
        self._job = job
        self.name = name
        self.cancel_event = threading.Event()

    @Slot()
    def cancel(self) -> None:
        """Thread-safe: core sees the flag at its next step and raises Cancelled."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        try:
            value = self._job(self._emit_progress, self.cancel_event)
            if inspect.isgenerator(value):
                value = self._drive(value)
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

    def _drive(self, generator) -> Any:
        """superqt's GeneratorWorker loop: every item is emitted, the cancel is checked at every yield (the
        generator is then closed, so its clean-up runs here), and the return value is the result."""
        try:
            while True:
                if self.cancel_event.is_set():
                    raise Cancelled(f"{self.name} was cancelled")
                try:
                    item = generator.send(None)
                except StopIteration as finished:
                    return finished.value
                if self.cancel_event.is_set():  # an item made after the cancel reaches no one
                    raise Cancelled(f"{self.name} was cancelled")
                self.yielded.emit(item)
        finally:
            generator.close()

    def _emit_progress(self, step: int, total: int, message: str = "") -> None:
        self.progress.emit(int(step), int(total), str(message))


class BackgroundTask(QObject):
    """The GUI-thread face of a Worker: connect any callable to its signals, then ``start()``.

    The Worker's signals are relayed through this object, which lives in the GUI thread, so slots
    (lambdas included) always run in the GUI thread. Destroying the task (or its parent) while the job
    runs cancels the job; the thread is then joined by the registry, never destroyed while it runs.
    """

    progress = Signal(int, int, str)
    yielded = Signal(object)  # each item of a generator job, in order
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
        self._worker.yielded.connect(self.yielded)
        # The outcome first marks the task as done, so a handler may start the next task right away.
        self._worker.result.connect(self._on_result)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        # quit() is thread-safe: ending the thread's loop from the worker thread itself means
        # wait() returns even while the GUI thread is blocked and cannot run queued slots.
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._worker.finished.connect(self._on_worker_finished)
        self._thread.started.connect(self._worker.run)
        self._thread.finished.connect(_registry().reap)  # joins the thread even when this task is gone
        self.destroyed.connect(self._worker.cancel, Qt.ConnectionType.DirectConnection)
        self._running = False

    def start(self) -> None:
        self._running = True
        _registry().add(self)
        if _COLLECTOR is not None and Shiboken.isValid(_COLLECTOR):
            _COLLECTOR.take_over()  # before this thread can allocate, even if the event loop has not run yet
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

    @property
    def is_detached(self) -> bool:
        """The task object was destroyed (with its owner) while its thread may still run."""
        return not Shiboken.isValid(self)

    @property
    def thread_running(self) -> bool:
        return self._thread.isRunning()

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
        _registry().forget(self)
        self._running = False
        self.finished.emit()


class _Registry(QObject):
    """Every started task, kept (with its QThread and Worker) until its thread has ended and was joined here,
    in the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self._tasks: set[BackgroundTask] = set()

    def add(self, task: BackgroundTask) -> None:
        self._tasks.add(task)

    def forget(self, task: BackgroundTask) -> None:
        self._tasks.discard(task)

    def tasks(self) -> list[BackgroundTask]:
        return sorted(self._tasks, key=lambda task: task.name)

    @Slot()
    def reap(self) -> None:
        """A worker thread has ended: join it and let go of its task."""
        for task in [t for t in self._tasks if t._thread.isFinished()]:
            task.wait()
            self._tasks.discard(task)


_REGISTRY: _Registry | None = None


def _registry() -> _Registry:
    global _REGISTRY
    if _REGISTRY is None:  # created by the first task, in the GUI thread
        _REGISTRY = _Registry()
    return _REGISTRY


def live_tasks() -> list[BackgroundTask]:
    """Tasks started and not yet joined (their thread may be running or just ending)."""
    return _registry().tasks() if _REGISTRY is not None else []


def join_all(timeout_ms: int) -> list[str]:
    """Cancel every live task and wait (in the GUI thread) for its thread; the names of those still running."""
    registry = _registry()
    deadline = time.monotonic() + timeout_ms / 1000
    for task in registry.tasks():
        task.cancel()
    for task in registry.tasks():
        if task.wait(max(0, int((deadline - time.monotonic()) * 1000))):
            registry.forget(task)
    return [task.name for task in registry.tasks()]


@atexit.register
def _join_at_exit() -> None:
    """Python must not destroy a running QThread while it shuts down (Qt would abort): join them all, and when a
    job ignores the cancel, end the process here without destroying anything."""
    if _REGISTRY is None or not _REGISTRY.tasks():
        return
    stuck = join_all(EXIT_WAIT_MS)
    if stuck:
        log.error("ending with jobs that did not stop when cancelled: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector, run by a timer in the GUI thread instead of in whichever thread
    happens to allocate (docs/decisions/150): a Qt object that lives in the GUI thread and is kept only by a
    reference cycle is then always destroyed there, never by a worker thread while the GUI thread uses it.

    It takes over when the event loop starts (or a task starts before), so the start-up imports are collected
    by Python as usual, a little at a time. Then it follows CPython 3.11's own rule (gc_collect_generations):
    the oldest generation whose count passed its threshold, and a full collection only once the long-lived
    objects grew by a quarter (a full collection walks every object: 0.8-0.9 s on the loaded dev VM with torch)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = GC_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._long_lived = self._pending = 0  # pending: survivors of generation-1 collections since a full one
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.collect)
        QTimer.singleShot(0, self.take_over)

    @Slot()
    def take_over(self) -> None:
        """From now on only this timer collects (idempotent)."""
        if not self._timer.isActive():
            self._long_lived = len(gc.get_objects(generation=2))
            gc.disable()
            self._timer.start()

    @Slot()
    def collect(self) -> int:
        """One collection if Python would make one now; the number of unreachable objects found."""
        counts, thresholds = gc.get_count(), self._thresholds
        if counts[2] > thresholds[2] and self._pending > self._long_lived / 4:
            found = gc.collect(2)
            self._long_lived, self._pending = max(0, self._long_lived + self._pending - found), 0
        elif counts[1] > thresholds[1]:
            young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
            found = gc.collect(1)
            self._pending += max(0, young - found)
        elif counts[0] > thresholds[0]:
            found = gc.collect(0)
        else:
            found = 0
        return found

    def stop(self) -> None:
        """Hand collection back to Python (automatic, in any thread)."""
        self._timer.stop()
        gc.enable()


_COLLECTOR: GuiThreadCollector | None = None


def collect_garbage_in_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Install the GUI-thread collector once per application (call from the GUI thread)."""
    global _COLLECTOR
    if _COLLECTOR is None or not Shiboken.isValid(_COLLECTOR):
        _COLLECTOR = GuiThreadCollector(app)
    return _COLLECTOR
