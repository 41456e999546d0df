"""Retraining in a child process, supervised from a worker QThread (no Qt in this module).

Why a process (docs/decisions/073): the trainer's checkpoint and model-file writes and the model loads of
the comparison hold Python's GIL for 50-600 ms at a time, which froze the GUI thread's Python slots for
as long; a spawned process has its own GIL. The child only runs core.training.retrain.retrain and puts
each of its typed events on a queue (Gathering, DataReady, TrainingProgress, Comparing, Finished), then
one Stopped if it ends any other way. The worker thread hands every event to `on_event`, returns the
Finished version, and forwards a cancel. Cancel sets a multiprocessing.Event that the trainer checks before
every step; the child sets it itself when the app's process is gone (docs/decisions/152).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import Cancelled, MandibleStudioError, TrainingError
from core.training.retrain import Finished, RetrainPlan

log = logging.getLogger(__name__)

POLL_S = 0.05
EXIT_GRACE_S = 1.0  # how long a child that has sent its final report may take to exit before it is killed
STOP_WAIT_S = 30.0  # how long a child still training may take to stop at its next step before it is killed


@dataclass(frozen=True)
class Stopped:
    """The child ended without a new version: cancelled, or failed with a message that says what to do."""

    message: str
    cancelled: bool = False


def cancel_when_parent_ends(cancel, out) -> None:
    """Child side: when the app that started this process is gone (killed, crashed), stop at the next step with
    the checkpoint kept, as a Cancel would, instead of training on for nobody; Resume continues the run."""
    parent = multiprocessing.parent_process()

    def watch() -> None:
        parent.join()
        out.cancel_join_thread()  # nobody reads the queue any more: exiting must not wait to flush it
        cancel.set()

    if parent is not None:
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def child_main(workspace_root: str, plan_json: str, resume: bool, out, cancel, torch_threads: int) -> None:
    """Entry point of the training process: everything it does is reported through `out`."""
    import torch

    from core.evaluation import compare_models
    from core.training.retrain import retrain

    cancel_when_parent_ends(cancel, out)
    torch.set_num_threads(torch_threads)
    try:
        for event in retrain(Path(workspace_root), RetrainPlan.from_json(plan_json), compare_models, resume, cancel):
            out.put(event)
    except Cancelled as exc:
        out.put(Stopped(str(exc), cancelled=True))
    except MandibleStudioError as exc:
        out.put(Stopped(str(exc)))
    except MemoryError:
        out.put(Stopped("training ran out of memory: lower the batch size or the image size (Advanced)"))
    except Exception as exc:  # a bug or an unexpected file: report it, never leave the app waiting
        log.exception("training failed")
        out.put(Stopped(f"training failed unexpectedly: {type(exc).__name__}: {exc}"))


def training_threads() -> int:
    """Threads the training process computes with: every core but one, which stays with the app."""
    return max(1, (os.cpu_count() or 2) - 1)


def run_in_process(workspace_root: Path, plan: RetrainPlan, resume: bool, on_event: Callable[[object], None],
                   cancel: threading.Event, torch_threads: int | None = None) -> object:
    """Worker-thread body: start the training process, hand each event to `on_event`, forward a cancel;
    returns the new ModelVersion or raises Cancelled / TrainingError like the in-process trainer would."""
    context = multiprocessing.get_context("spawn")
    out, child_cancel = context.Queue(), context.Event()
    threads = torch_threads or training_threads()
    process = context.Process(target=child_main, name="mandible-training", daemon=True,
                              args=(str(workspace_root), plan.to_json(), resume, out, child_cancel, threads))
    process.start()
    final = None
    try:
        while True:
            if cancel.is_set():
                child_cancel.set()
            try:
                event = out.get(timeout=POLL_S)
            except queue.Empty:
                if not process.is_alive() and out.empty():
                    raise TrainingError(f"the training process ended unexpectedly (exit code {process.exitcode}); "
                                        "Resume continues from the last finished epoch")
                continue
            if isinstance(event, Finished):
                final = event
                return event.version
            if isinstance(event, Stopped):
                final = event
                raise Cancelled(event.message) if event.cancelled else TrainingError(event.message)
            on_event(event)
    finally:
        # After its final report the child has written everything and only tears its interpreter down (seconds
        # with torch, more under load): that is not worth a longer wait. Otherwise it stops at its next step.
        child_cancel.set()
        process.join(timeout=EXIT_GRACE_S if final else STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join()
        out.close()
