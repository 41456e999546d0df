"""gui.workers: a core job runs in a QThread; progress and result arrive in the GUI thread, errors become
`failed` messages, cancel stops the job at its next step; a core generator's items arrive as `yielded`, its
return value is the result and the cancel is checked at every yield; a task outlives no owner's wish (destroying the
owner cancels it) and its thread is never destroyed running; no worker thread destroys a GUI-thread object."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread

from core.annotation.propagation import propagate
from core.errors import Cancelled, InputError
from gui import workers
from gui.workers import BackgroundTask
from tests.support.paths import ROOT
from tests.support.window import THREAD_END_TIMEOUT_MS


def test_progress_and_result_arrive_in_the_gui_thread(qtbot):
    seen = []

    def job(progress, cancel):
        for step in range(3):
            progress(step + 1, 3, f"step {step + 1}")
        return threading.current_thread().name

    task = BackgroundTask(job, "count")
    task.progress.connect(lambda s, t, m: seen.append((s, t, m, QThread.currentThread() is task.thread())))
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS):
        with qtbot.waitSignal(task.result, timeout=THREAD_END_TIMEOUT_MS) as result:
            task.start()
    assert [s[:3] for s in seen] == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    assert all(s[3] for s in seen)  # delivered in the GUI thread
    assert result.args[0] != threading.main_thread().name  # ran in another thread
    assert not task.is_running


def test_errors_become_failed_messages(qtbot):
    def bad_input(progress, cancel):
        raise InputError("The folder /x is empty; choose the folder that holds the CT slices.")

    def bug(progress, cancel):
        return 1 / 0

    for job, expected in ((bad_input, "is empty"), (bug, "ZeroDivisionError")):
        task = BackgroundTask(job, "open")
        with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
                qtbot.waitSignal(task.failed, timeout=THREAD_END_TIMEOUT_MS) as failed:
            task.start()
        assert expected in failed.args[0] and not task.is_running


def test_cancel_stops_a_job_between_its_steps(qtbot):
    def slow(progress, cancel):
        for step in range(1000):
            if cancel.is_set():
                raise Cancelled("stopped")
            time.sleep(0.005)
            progress(step, 1000, "working")
        return "done"

    task = BackgroundTask(slow, "slow")
    task.progress.connect(lambda s, t, m: task.cancel() if s >= 3 else None)
    results = []
    task.result.connect(results.append)
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
            qtbot.waitSignal(task.cancelled, timeout=THREAD_END_TIMEOUT_MS):
        task.start()
    assert results == [] and not task.is_running


def test_core_cancelled_becomes_cancelled_signal(qtbot):
    def job(progress, cancel):
        raise Cancelled("Loading was cancelled.")

    task = BackgroundTask(job)
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
            qtbot.waitSignal(task.cancelled, timeout=THREAD_END_TIMEOUT_MS):
        task.start()


def _until_cancelled(outcome: list):
    """A job that runs until it is cancelled (or, if cancel never came, to the end: a failure)."""

    def job(progress, cancel):
        for step in range(5_000):
            if cancel.is_set():
                outcome.append("cancelled")
                raise Cancelled("stopped")
            progress(step, 5_000, "working")
            time.sleep(0.004)
        outcome.append("ran to the end")
        return "done"

    return job


def test_destroying_the_owner_cancels_the_job_and_its_thread_is_joined_later(qtbot):
    owner = QObject()
    outcome, delivered = [], []
    task = BackgroundTask(_until_cancelled(outcome), "orphan", owner)
    task.progress.connect(lambda s, t, m: delivered.append(s))
    task.result.connect(delivered.append)
    task.start()
    qtbot.waitUntil(lambda: bool(delivered), timeout=THREAD_END_TIMEOUT_MS)
    owner.deleteLater()  # the window (or controller) goes while its job runs
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert task.is_detached
    del task, owner
    gc.collect()  # the test lets go of the task: its running QThread must not be destroyed with it (Qt aborts)
    qtbot.waitUntil(lambda: not workers.live_tasks(), timeout=THREAD_END_TIMEOUT_MS)
    assert outcome == ["cancelled"] and "done" not in delivered


def test_join_all_cancels_and_joins_every_running_task(qtbot):
    outcomes = [[], []]
    tasks = [BackgroundTask(_until_cancelled(outcome), f"job {i}") for i, outcome in enumerate(outcomes)]
    for task in tasks:
        task.start()
    assert sorted(t.name for t in workers.live_tasks()) == ["job 0", "job 1"]
    assert workers.join_all(THREAD_END_TIMEOUT_MS) == []
    assert outcomes == [["cancelled"], ["cancelled"]] and workers.live_tasks() == []
    assert not any(task.thread_running for task in tasks)


LEAKED_TIMER = r"""
import gc, sys, weakref
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from gui.workers import BackgroundTask, collect_garbage_in_gui_thread

app = QCoreApplication([])
if sys.argv[1] == "gui-thread":
    collect_garbage_in_gui_thread(app)


class Meter:  # a GUI-thread timer left running (a failed test's stall meter), kept only by a reference cycle
    def __init__(self):
        self.timer = QTimer(interval=2)
        self.timer.timeout.connect(self.tick)
        self.cycle = self

    def tick(self):
        pass


gc.collect()
meter = Meter()
meter.timer.start()
gone = weakref.ref(meter)
del meter


def decode(progress, cancel):  # a loader thread allocating as it decodes: Python may collect right here
    return [[{}] for _ in range(50_000)]


task = BackgroundTask(decode, "decode")
decoded = []
task.result.connect(decoded.append)
loop = QEventLoop()
task.finished.connect(loop.quit)
task.start()
loop.exec()
QTimer.singleShot(1000, loop.quit)  # the GUI thread's timers keep running, the collector's too
loop.exec()
print("survived; meter collected:", gone() is None)
"""


def _leaked_timer_run(mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-X", "faulthandler", "-c", LEAKED_TIMER, mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=THREAD_END_TIMEOUT_MS / 1000)


@pytest.mark.process
def test_a_leaked_gui_timer_is_destroyed_in_the_gui_thread_never_by_a_worker():
    """The suite's segfault under load (docs/decisions/150), reproduced in a child process: with Python's own
    collector the worker thread destroys the GUI thread's timer and the GUI thread crashes on its next tick;
    with the app's GUI-thread collector the timer is collected in the GUI thread and nothing crashes."""
    safe = _leaked_timer_run("gui-thread")
    assert safe.returncode == 0, safe.stderr
    assert "survived; meter collected: True" in safe.stdout
    unsafe = _leaked_timer_run("python")
    assert unsafe.returncode != 0 and "Timers cannot be stopped from another thread" in unsafe.stderr


def _cone_ct() -> tuple[np.ndarray, np.ndarray]:
    """Slices 10..30 hold a bone rod; slice 20's bone is where propagation starts."""
    hu = np.full((40, 64, 64), 40, np.int16)
    rows, cols = np.mgrid[:64, :64]
    for k in range(10, 31):
        hu[k][(rows - 32) ** 2 + (cols - 24) ** 2 <= (6 + 0.5 * (k - 10)) ** 2] = 1000
    return hu, hu[20] >= 250


def _propagation_task(hu, start) -> BackgroundTask:
    return BackgroundTask(lambda progress, cancel: propagate(hu, 20, start, +1, range(40), cancel=cancel),
                          "propagation")


def test_a_core_generator_yields_its_items_in_order_and_its_return_value_is_the_result(qtbot):
    hu, start = _cone_ct()
    task = _propagation_task(hu, start)
    items = []
    task.yielded.connect(lambda item: items.append((item.index, QThread.currentThread() is task.thread())))
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
            qtbot.waitSignal(task.result, timeout=THREAD_END_TIMEOUT_MS) as result:
        task.start()
    assert [index for index, _ in items] == list(range(21, 31))  # every slice of the rod below 20, in order
    assert all(in_gui_thread for _, in_gui_thread in items)
    assert "bone ends at slice 32" in result.args[0]  # the generator's return value


def test_cancel_is_checked_at_every_yield_and_the_generator_is_closed(qtbot):
    hu, start = _cone_ct()
    task = _propagation_task(hu, start)
    made, delivered, results = [], [], []
    # In the worker's own thread, between two items: the cancel lands exactly after the third one.
    task._worker.yielded.connect(lambda item: (made.append(item.index), len(made) == 3 and task.cancel()),
                                 Qt.ConnectionType.DirectConnection)
    task.yielded.connect(lambda item: delivered.append(item.index))
    task.result.connect(results.append)
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
            qtbot.waitSignal(task.cancelled, timeout=THREAD_END_TIMEOUT_MS):
        task.start()
    assert made == delivered == [21, 22, 23] and results == []


def test_items_made_after_the_cancel_reach_no_one(qtbot):
    cancel_seen = []

    def job(progress, cancel):
        def items():
            try:
                yield "first"
                cancel.set()  # the user cancels while the next item is being made
                yield "second"
                yield "third"
            finally:
                cancel_seen.append(cancel.is_set())  # closed by the runner: its clean-up ran

        return items()

    task = BackgroundTask(job, "items")
    delivered = []
    task.yielded.connect(delivered.append)
    with qtbot.waitSignal(task.finished, timeout=THREAD_END_TIMEOUT_MS), \
            qtbot.waitSignal(task.cancelled, timeout=THREAD_END_TIMEOUT_MS):
        task.start()
    assert delivered == ["first"] and cancel_seen == [True]
