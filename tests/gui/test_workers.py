"""gui.workers: a core job runs in a QThread; progress and result arrive in the GUI thread, errors become
`failed` messages, cancel stops the job at its next step."""
from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from core.errors import Cancelled, InputError
from gui.workers import BackgroundTask


def test_progress_and_result_arrive_in_the_gui_thread(qtbot):
    seen = []

    def job(progress, cancel):
        for step in range(3):
            progress(step + 1, 3, f"step {step + 1}")
        return threading.current_thread().name

    task = BackgroundTask(job, "count")
    task.progress.connect(lambda s, t, m: seen.append((s, t, m, QThread.currentThread() is task.thread())))
    with qtbot.waitSignal(task.finished, timeout=5000):
        with qtbot.waitSignal(task.result, timeout=5000) as result:
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
        with qtbot.waitSignal(task.finished, timeout=5000), qtbot.waitSignal(task.failed, timeout=5000) as failed:
            task.start()
        assert expected in failed.args[0] and not task.is_running


def test_core_cancelled_becomes_cancelled_signal(qtbot):
    def job(progress, cancel):
        raise Cancelled("Loading was cancelled.")

    task = BackgroundTask(job)
    with qtbot.waitSignal(task.finished, timeout=5000), qtbot.waitSignal(task.cancelled, timeout=5000):
        task.start()
