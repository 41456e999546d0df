"""AI jobs on gui.workers.BackgroundTask, torch kept to a few threads so the GUI thread always gets the CPU and the
GIL back quickly. A job that returns a core generator (Segmenter.predict) has its items delivered as the task's
`yielded` signal, in order, the cancel checked at every one."""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, QTimer

from gui.workers import BackgroundTask

# The GUI thread needs one core: torch's intra-op pool in the worker gets the others (at least one).
WORKER_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)


def make_ai_task(job: Callable[[Callable, threading.Event], Any], name: str,
                  parent: QObject, limit_torch: bool = True) -> BackgroundTask:
    """A BackgroundTask (not started yet) running `job(progress, cancel)` with torch limited to the worker's share."""

    def limited(progress, cancel):
        if limit_torch:
            import torch

            torch.set_num_threads(WORKER_TORCH_THREADS)
        return job(progress, cancel)

    return BackgroundTask(limited, name, parent)


def wait_for(task: BackgroundTask, timeout_ms: int) -> bool:
    """Wait, with the GUI's events still processed, until `task` has finished; False on timeout."""
    if not task.is_running:
        return True
    loop = QEventLoop()
    timer = QTimer(loop, singleShot=True, interval=timeout_ms)  # dies with the loop: never fires later
    timer.timeout.connect(loop.quit)
    task.finished.connect(loop.quit)
    timer.start()
    loop.exec()
    return not task.is_running
