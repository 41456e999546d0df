"""Measures one real training step for the Retrain dialog's time estimate (core.training.step_time), once per
image size, device and network in a session.

A request waits a moment (the user may still be typing a size), then the step is timed in a spawned process
(building the network and running it would hold this process's GIL for long stretches and stall the GUI,
docs/decisions/073) by the one process runner (gui/process_runner.py), one at a time, in a gui.workers task that
belongs to the dialog that asked: closing the dialog ends the measurement, so it never competes with the training
that may start then. The results stay with the one timer, which lives as long as the app.
"""
from __future__ import annotations

import logging

import torch
from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import Shiboken

from core.errors import MandibleStudioError
from core.training.config import TrainingConfig
from core.training.retrain import RetrainPlan
from core.training.step_time import StepTime, measure_step
from gui.ai.training_process import training_threads
from gui.process_runner import run_in_child
from gui.workers import BackgroundTask

log = logging.getLogger(__name__)

SETTLE_MS = 400
_TIMER: list = []


def step_timer() -> "StepTimer":
    if not _TIMER:
        _TIMER.append(StepTimer())
    return _TIMER[0]


class StepTimer(QObject):
    measured = Signal(object)  # StepTime

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results: dict[tuple, StepTime] = {}
        self._pending: tuple | None = None
        self._owner: QObject | None = None
        self._task: BackgroundTask | None = None
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._start_pending)

    def result_for(self, plan: RetrainPlan, owner: QObject | None = None) -> StepTime | None:
        """The measured step of `plan`'s network, or None while it is still to be measured (asked for here, on
        behalf of `owner`: the measurement ends when the owner is destroyed)."""
        key = (plan.value("input_size"), plan.value("device"), plan.value("encoder"), plan.value("attention"))
        if key not in self.results:
            self._pending, self._owner = key, owner
            self._settle.start()
        return self.results.get(key)

    @property
    def measuring(self) -> bool:
        return self._task is not None and not self._task.is_detached and self._task.is_running

    def _start_pending(self) -> None:
        if self._pending is None or self._pending in self.results or self.measuring:
            return  # a running measurement starts the pending one when it ends
        if self._owner is not None and not Shiboken.isValid(self._owner):
            self._pending = self._owner = None  # the dialog that asked is gone: nobody waits for the estimate
            return
        key, self._pending = self._pending, None
        job = lambda progress, cancel: run_in_child(measure_in_child, key, cancel=cancel,  # noqa: E731
                                                    name="step timer", stop_wait_s=0)
        self._task = task = BackgroundTask(job, "step timer", self._owner)
        task.result.connect(lambda step: self._store(key, step))
        task.failed.connect(lambda message: log.warning("could not time a training step: %s", message))
        task.finished.connect(self._start_pending)
        task.start()

    def stop(self) -> None:
        """Nobody waits for an estimate any more (the dialog closed): drop the request and end a running
        measurement at once, so that it does not compete with the training that may start now."""
        self._settle.stop()
        self._pending = None
        if self.measuring:
            self._task.cancel()

    def _store(self, key: tuple, step: StepTime | None) -> None:
        if step is not None:
            self.results[key] = step
            self.measured.emit(step)


def measure_in_child(key: tuple, cancel=None) -> StepTime | None:
    """Child side: the StepTime of (input size, device, encoder, attention), or None (logged) when the step cannot
    run."""
    torch.set_num_threads(training_threads())  # as the training process will: the estimate is for that
    size, device, encoder, attention = key
    try:
        return measure_step(TrainingConfig(data=[], out="", input_size=size, device=device, encoder=encoder,
                                           attention=attention))
    except (MandibleStudioError, RuntimeError, MemoryError) as exc:  # e.g. out of memory at a large size
        log.warning("could not time a training step at %s px on %s: %s", key[0], key[1], exc)
        return None
