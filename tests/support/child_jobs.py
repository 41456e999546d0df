"""Picklable jobs for gui.process_runner tests: module-level functions a spawned child can import."""
from __future__ import annotations

import os
import time

from core.errors import Cancelled, InputError


def count(n: int, cancel):
    """Yields 0..n-1, returns "counted n"."""
    for i in range(n):
        yield i
    return f"counted {n}"


def until_cancelled(cancel):
    """Yields a heartbeat until the cancel is set, then stops as core's jobs do."""
    beat = 0
    while not cancel.is_set():
        yield beat
        beat += 1
        time.sleep(0.01)
    raise Cancelled("stopped at the user's request")


def refuse(kind: str, cancel):
    """Fails the way a job can fail: a typed error, a bug, or the process dying."""
    yield "started"
    if kind == "typed":
        raise InputError("the folder /x is empty; choose the folder that holds the CT slices")
    if kind == "bug":
        return 1 / 0
    os._exit(7)


def one_shot(value, cancel):
    """Not a generator: its value is the result."""
    return value * 2


def ignore_cancel(cancel):
    """A one-shot job that never looks at the cancel (as a timed training step does not)."""
    yield "started"
    time.sleep(600)
    return "too late"
