"""Retraining in a child process (no Qt in this module: the child imports it).

Why a process (docs/decisions/073): the trainer's checkpoint and model-file writes and the model loads of the
comparison hold Python's GIL for 50-600 ms at a time, which froze the GUI thread's Python slots for as long.
The child runs core.training.retrain through gui.process_runner; its typed events (core.training.events) come
back as they happen, and the new ModelVersion is the generator's return value. Cancel sets the child's
multiprocessing.Event, which the trainer checks before every step (the last finished epoch is kept for Resume);
the child sets it itself when the app's process is gone (docs/decisions/152).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Generator

from core.errors import TrainingError
from core.training.events import RetrainEvent
from core.training.retrain import RetrainPlan
from gui.process_runner import run_in_child

STOP_WAIT_S = 600.0  # a cancelled training stops at its next step (and finishes a checkpoint write): minutes at
# the largest size on a slow CPU; killed only after this, so that a Resume never repeats a finished epoch


def retrain_in_child(workspace_root: str, plan_json: str, resume: bool, torch_threads: int, cancel):
    """Child side: core.training.retrain on the workspace; returns the new ModelVersion."""
    import torch

    from core.evaluation import compare_models
    from core.training.retrain import retrain

    torch.set_num_threads(torch_threads)
    try:
        return (yield from retrain(Path(workspace_root), RetrainPlan.from_json(plan_json), compare_models, resume,
                                   cancel))
    except MemoryError:
        raise TrainingError("training ran out of memory: lower the batch size or the image size (Advanced)") from None


def training_threads() -> int:
    """Threads the training process computes with: every core but one, which stays with the app."""
    return max(1, (os.cpu_count() or 2) - 1)


def training_run(workspace_root: Path, plan: RetrainPlan, resume: bool, cancel: threading.Event | None,
                 torch_threads: int | None = None) -> Generator[RetrainEvent, None, object]:
    """The events of a retraining run in a child process; returns the new ModelVersion or raises Cancelled /
    TrainingError, as the in-process trainer would."""
    threads = torch_threads or training_threads()
    return run_in_child(retrain_in_child, str(workspace_root), plan.to_json(), resume, threads, cancel=cancel,
                        name="training", stop_wait_s=STOP_WAIT_S, error=TrainingError)
