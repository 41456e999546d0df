"""The one runner of a core generator in a spawned child process (no Qt here: the child imports this module).

    events = run_in_child(retrain_in_child, root, plan_json, resume, cancel=cancel, name="training")
    version = yield from events          # in a gui.workers job: each event is `yielded`, the version the result

Why a process (docs/decisions/073): building and training the network holds this process's GIL for long
stretches, which would stall the GUI thread; a spawned process has its own. `target(*args, cancel=...)` is a
picklable module-level function that returns a generator (or, for a one-shot job, its value). The child sends
each item, then the return value, over a pipe; a Cancelled or MandibleStudioError raised in the child is raised
here again, anything else becomes `error` with a short explanation (docs/decisions/190).

The parent waits on the pipe and the child's sentinel, so events arrive as soon as they are sent; it wakes every
CANCEL_CHECK_S only to forward a cancel to the child's multiprocessing.Event. A cancelled child has `stop_wait_s`
to stop at its next step and say so; one that does not (a one-shot job that never looks at the cancel, a step that
runs long) is then killed and the runner raises Cancelled. The child stops by itself, as a Cancel would, when the
app that started it is gone (docs/decisions/152). However the generator ends (returned, raised, closed by the
thread runner's cancel), the child is stopped: what is left of `stop_wait_s` to end, or `EXIT_GRACE_S` once it
has reported its end, then killed.
"""
from __future__ import annotations

import inspect
import logging
import multiprocessing
import pickle
import threading
import time
from multiprocessing.connection import wait
from typing import Any, Callable, Generator

from core.errors import Cancelled, MandibleStudioError

log = logging.getLogger(__name__)

CANCEL_CHECK_S = 0.1
EXIT_GRACE_S = 1.0  # a child that has sent its final report only tears its interpreter down
DRAIN_S = 0.05


def run_in_child(target: Callable, *args, cancel: threading.Event | None = None, name: str = "job",
                 stop_wait_s: float = 30.0, error: type[MandibleStudioError] = MandibleStudioError
                 ) -> Generator[Any, None, Any]:
    """Run `target(*args, cancel=child_cancel)` in a spawned process: yields its items, returns its return value;
    raises Cancelled, the child's MandibleStudioError, or `error` when the child fails or ends unexpectedly."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child_cancel = context.Event()
    process = context.Process(target=_child_main, name=f"mandible-{name}", daemon=True,
                              args=(target, args, child_cancel, sender))
    process.start()
    sender.close()  # the child holds the only sending end: its death ends the pipe
    reported, stop_by = False, None
    try:
        while True:
            if stop_by is None and cancel is not None and cancel.is_set():
                child_cancel.set()
                stop_by = time.monotonic() + stop_wait_s
            if not wait([receiver, process.sentinel], timeout=CANCEL_CHECK_S):
                if stop_by is not None and time.monotonic() > stop_by:
                    raise Cancelled(f"the {name} was cancelled")  # it did not stop in time: it is ended
                continue
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process.join(EXIT_GRACE_S)
                raise error(f"the {name} process ended unexpectedly (exit code {process.exitcode})") from None
            if kind == "item":
                yield payload
                continue
            reported = True
            if kind == "return":
                return payload
            if kind == "cancelled":
                raise Cancelled(payload)
            raise payload if isinstance(payload, MandibleStudioError) else error(f"{name} {payload}")
    finally:
        child_cancel.set()
        left = stop_wait_s if stop_by is None else max(0.0, stop_by - time.monotonic())
        _stop(process, receiver, EXIT_GRACE_S if reported else left)


def _stop(process, receiver, timeout_s: float) -> None:
    """Wait up to `timeout_s` for the child to end, reading (and dropping) what it still sends so that it never
    blocks on a full pipe; once it has made its final report it only tears its interpreter down (seconds with
    torch, more under load), which is not worth more than EXIT_GRACE_S (docs/decisions/152). Then kill it."""
    deadline = time.monotonic() + timeout_s
    while process.is_alive() and time.monotonic() < deadline:
        try:
            while receiver.poll():
                kind, _payload = receiver.recv()
                if kind != "item":
                    deadline = min(deadline, time.monotonic() + EXIT_GRACE_S)
        except (EOFError, OSError):  # it closed its end: it is ending
            deadline = min(deadline, time.monotonic() + EXIT_GRACE_S)
        process.join(DRAIN_S)
    if process.is_alive():
        log.warning("%s did not end in time; ending it", process.name)
        process.kill()
        process.join()
    receiver.close()


# --- the child's side ------------------------------------------------------------------------------------
def _child_main(target: Callable, args: tuple, cancel, sender) -> None:
    """Entry point of the child process: everything it does is reported through `sender`."""
    _cancel_when_parent_ends(cancel)
    channel = _Channel(sender, cancel)
    try:
        value = target(*args, cancel=cancel)
        if inspect.isgenerator(value):
            value = channel.forward(value)
        channel.send("return", value)
    except Cancelled as exc:
        channel.send("cancelled", str(exc))
    except MandibleStudioError as exc:
        channel.send("failed", exc)
    except MemoryError:
        channel.send("failed", "ran out of memory; close other programs or choose smaller settings")
    except Exception as exc:  # a bug or an unexpected file: report it, never leave the app waiting
        log.exception("%s failed", getattr(target, "__name__", "the job"))
        channel.send("failed", f"failed unexpectedly: {type(exc).__name__}: {exc}")
    finally:
        sender.close()


class _Channel:
    """The child's end of the pipe. Once the app is gone a send fails: the cancel is set, so the generator
    stops at its next step as a Cancel would stop it (its checkpoint kept), and nothing more is sent."""

    def __init__(self, sender, cancel) -> None:
        self._sender, self._cancel, self._open = sender, cancel, True

    def forward(self, generator) -> Any:
        while True:
            try:
                item = next(generator)
            except StopIteration as finished:
                return finished.value
            self.send("item", item)

    def send(self, kind: str, payload) -> None:
        if not self._open:
            return
        if kind == "failed" and isinstance(payload, MandibleStudioError):
            payload = _picklable(payload)
        try:
            self._sender.send((kind, payload))
        except (OSError, ValueError):  # the app has ended (or closed its end)
            self._open = False
            self._cancel.set()


def _picklable(exc: MandibleStudioError) -> MandibleStudioError | str:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # an error type with extra constructor arguments: its message is what counts
        return str(exc)
    return exc


def _cancel_when_parent_ends(cancel) -> None:
    """When the app that started this process is gone (killed, crashed), stop at the next step, as a Cancel would,
    instead of working on for nobody (docs/decisions/152)."""
    parent = multiprocessing.parent_process()

    def watch() -> None:
        parent.join()
        cancel.set()

    if parent is not None:
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
