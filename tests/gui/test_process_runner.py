"""gui.process_runner: a generator run in a spawned child yields its items here in order and returns its value;
cancel stops the child; its typed errors come back typed, a bug or a dead child as the runner's error."""
from __future__ import annotations

import multiprocessing
import threading

import pytest

from core.errors import Cancelled, InputError, TrainingError
from gui.process_runner import run_in_child
from tests.support import child_jobs

pytestmark = pytest.mark.process


def _drain(events) -> tuple[list, object]:
    items = []
    while True:
        try:
            items.append(next(events))
        except StopIteration as finished:
            return items, finished.value


def test_items_arrive_in_order_and_the_return_value_is_the_result():
    assert _drain(run_in_child(child_jobs.count, 5, name="count")) == ([0, 1, 2, 3, 4], "counted 5")
    assert _drain(run_in_child(child_jobs.one_shot, 21)) == ([], 42)
    assert multiprocessing.active_children() == []


def test_cancel_reaches_the_child_which_stops_at_its_next_step():
    cancel = threading.Event()
    events = run_in_child(child_jobs.until_cancelled, cancel=cancel, name="heartbeat")
    assert next(events) == 0
    cancel.set()
    with pytest.raises(Cancelled, match="user's request"):
        _drain(events)
    assert multiprocessing.active_children() == []


def test_closing_the_generator_stops_the_child():
    events = run_in_child(child_jobs.until_cancelled, name="heartbeat", stop_wait_s=5)
    next(events)
    assert len(multiprocessing.active_children()) == 1
    events.close()  # what the thread runner does when the user cancels
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("kind, error, message", [
    ("typed", InputError, "the folder /x is empty"),
    ("bug", TrainingError, "counting failed unexpectedly: ZeroDivisionError"),
    ("dies", TrainingError, "the counting process ended unexpectedly \\(exit code 7\\)")])
def test_failures_come_back_as_typed_errors(kind, error, message):
    events = run_in_child(child_jobs.refuse, kind, name="counting", error=TrainingError)
    assert next(events) == "started"
    with pytest.raises(error, match=message):
        _drain(events)
    assert multiprocessing.active_children() == []


def test_a_child_that_ignores_the_cancel_is_ended_after_its_stop_wait():
    cancel = threading.Event()
    events = run_in_child(child_jobs.ignore_cancel, cancel=cancel, name="stubborn", stop_wait_s=0.5)
    assert next(events) == "started"
    cancel.set()
    with pytest.raises(Cancelled, match="the stubborn was cancelled"):
        _drain(events)
    assert multiprocessing.active_children() == []
