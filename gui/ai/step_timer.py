"""Measures one real training step for the Retrain dialog's time estimate (core.training.step_time), once per
image size, device and network in a session.

A request waits a moment (the user may still be typing a size), then the step is timed in a spawned process
(building the network and running it would hold this process's GIL for long stretches and stall the GUI,
docs/decisions/073), one at a time, watched by a daemon thread; `measured` reaches the GUI thread queued. One
timer lives as long as the app, so a dialog closed while it measures leaves nothing behind, and a measurement
still running at exit does not hold the app.
"""
from __future__ import annotations

import logging
import multiprocessing
import queue
import threading

import torch
from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import MandibleStudioError
from core.training.config import TrainingConfig
from core.training.retrain import RetrainPlan
from core.training.step_time import StepTime, measure_step
from gui.ai.training_process import training_threads

log = logging.getLogger(__name__)

SETTLE_MS = 400
MEASURE_TIMEOUT_S = 900
POLL_S = 0.5
_TIMER: list = []


def step_timer() -> "StepTimer":
    if not _TIMER:
        _TIMER.append(StepTimer())
    return _TIMER[0]


class StepTimer(QObject):
    measured = Signal(object)  # StepTime
    _done = Signal(object, object)  # key, StepTime (from the measuring thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results: dict[tuple, StepTime] = {}
        self._pending: tuple | None = None
        self._thread: threading.Thread | None = None
        self._process = None
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._start_pending)
        self._done.connect(self._store)

    def result_for(self, plan: RetrainPlan) -> StepTime | None:
        """The measured step of `plan`'s network, or None while it is still to be measured (asked for here)."""
        key = (plan.value("input_size"), plan.value("device"), plan.value("encoder"), plan.value("attention"))
        if key not in self.results:
            self._pending = key
            self._settle.start()
        return self.results.get(key)

    def _start_pending(self) -> None:
        if self._pending is None or self._pending in self.results:
            return
        if self._thread is not None and self._thread.is_alive():
            return  # started again when the running one reports
        key, self._pending = self._pending, None
        self._thread = threading.Thread(target=self._measure, args=(key,), name="step-timer", daemon=True)
        self._thread.start()

    def _measure(self, key: tuple) -> None:
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        process = context.Process(target=measure_in_child, args=(key, out), name="step-timer", daemon=True)
        process.start()
        self._process, step = process, None
        for _ in range(int(MEASURE_TIMEOUT_S / POLL_S)):
            try:
                step = out.get(timeout=POLL_S)
                break
            except queue.Empty:
                if not process.is_alive():  # stopped, or it died
                    break
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
        self._done.emit(key, step)

    def stop(self) -> None:
        """Nobody waits for an estimate any more (the dialog closed): drop the request, end a running measurement
        so that it does not compete with the training that may start now."""
        self._settle.stop()
        self._pending = None
        if self._process is not None and self._process.is_alive():
            self._process.kill()

    def _store(self, key: tuple, step: StepTime | None) -> None:
        if step is not None:
            self.results[key] = step
            self.measured.emit(step)
        self._start_pending()


def measure_in_child(key: tuple, out) -> None:
    """Child side: the StepTime of (input size, device, encoder, attention), or None (logged) when the step cannot
    run."""
    torch.set_num_threads(training_threads())  # as the training process will: the estimate is for that
    size, device, encoder, attention = key
    try:
        step = measure_step(TrainingConfig(data=[], out="", input_size=size, device=device, encoder=encoder,
                                           attention=attention))
    except (MandibleStudioError, RuntimeError, MemoryError) as exc:  # e.g. out of memory at a large size
        log.warning("could not time a training step at %s px on %s: %s", key[0], key[1], exc)
        step = None
    out.put(step)
