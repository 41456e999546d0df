"""Retraining run in a child process, supervised from a worker QThread (no Qt in this module).

Why a process (docs/decisions/073): the trainer's checkpoint and model-file writes and the model loads of
the comparison hold Python's GIL for 50-600 ms at a time, which froze the GUI thread's Python slots for
as long; a spawned process has its own GIL. The worker thread relays what the child reports:

    ("progress", (step, total, message))   ("item", ("data", summary) | ("event", TrainingProgress))
    ("result", ModelVersion)   ("cancelled", message)   ("failed", message)

Cancel sets a multiprocessing.Event that the trainer checks before every step; the child sets it itself when
the app's process is gone (docs/decisions/152). A run lives in
<workspace>/models/_run/ (staged data, plan.json, the trainer's checkpoint) until it finishes, so a
cancelled or failed run can be resumed on exactly the same slices, even after a restart.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import shutil
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from core.errors import Cancelled, MandibleStudioError, TrainingError

log = logging.getLogger(__name__)

RUN_FOLDER = "_run"
PLAN_FILE = "plan.json"
PROGRESS_FILE = "progress.json"
POLL_S = 0.05
EXIT_GRACE_S = 1.0  # how long a child that has sent its final report may take to exit before it is killed
STOP_WAIT_S = 30.0  # how long a child still training may take to stop at its next step before it is killed
Emit = Callable[[str, object], None]


@dataclass
class RetrainPlan:
    """What the retrain dialog decides; paper defaults (25 frozen + 75 unfrozen epochs, lr 1e-4 / 1e-5, batch 4, 512)."""

    epochs: int = 100
    freeze_epochs: int = 25
    lr: float = 1e-4
    lr_unfrozen: float = 1e-5
    batch_size: int = 4
    input_size: int = 512
    init: str = "imagenet"  # "imagenet", "none", or a file: torchvision resnet50 weights or a model to fine-tune
    val_fraction: float = 0.2
    max_slices_per_case: int | None = None
    device: str = "auto"
    seed: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "RetrainPlan":
        data = json.loads(text)
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def trainer_settings(self) -> dict:
        from core.training.slices import SliceSampling

        return dict(epochs=self.epochs, freeze_epochs=self.freeze_epochs, lr=self.lr, lr_unfrozen=self.lr_unfrozen,
                    batch_size=self.batch_size, input_size=self.input_size, init=self.init, device=self.device,
                    sampling=SliceSampling(max_per_case=self.max_slices_per_case, seed=self.seed))


def run_folder(models_dir: Path) -> Path:
    return Path(models_dir) / RUN_FOLDER


def interrupted_plan(models_dir: Path) -> RetrainPlan | None:
    """The plan of a run that was cancelled or failed and can be resumed, if any."""
    path = run_folder(models_dir) / PLAN_FILE
    try:
        return RetrainPlan.from_json(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def resume_epoch(models_dir: Path) -> int:
    """Epochs the interrupted run finished (and checkpointed); read from a small file, never the checkpoint,
    so the GUI thread does not load hundreds of MB to show a number."""
    try:
        return int(json.loads((run_folder(models_dir) / PROGRESS_FILE).read_text(encoding="utf-8"))["finished"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def retrain(workspace_root: Path, plan: RetrainPlan, resume: bool, emit: Emit, cancel) -> object:
    """Gather (or reuse) the data, train, compare with the active model on the same validation slices,
    and add the new version (not activated). Runs in the child process."""
    from core.io.atomic import atomic_write_text
    from core.training.trainer import run_training
    from core.training.workspace_data import gather_workspace_data, load_staged
    from core.evaluation import compare_models
    from core.workspace import Workspace
    from core.workspace.model_versions import ModelVersions

    workspace = Workspace.open(workspace_root)
    versions = ModelVersions(workspace.models_dir)
    folder = run_folder(workspace.models_dir)
    progress = lambda step, total, message: emit("progress", (step, total, message))  # noqa: E731
    if resume:
        data = load_staged(folder / "data", plan.val_fraction, plan.seed)
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        atomic_write_text(folder / PLAN_FILE, plan.to_json())
        data = gather_workspace_data(workspace, folder / "data", plan.val_fraction, plan.seed, progress, cancel)
    emit("item", ("data", data.summary()))
    config = data.training_config(folder / "model.msmodel", **plan.trainer_settings())
    for event in run_training(config, cancel):
        emit("item", ("event", event))
        if event.event == "epoch":  # the trainer has just written this epoch's checkpoint
            atomic_write_text(folder / PROGRESS_FILE, json.dumps({"finished": event.epoch + 1, "of": event.epochs}))
        if event.event in ("prepare", "step"):
            progress(event.step, event.steps, event.message)
    active = versions.active()
    progress(0, 0, "measuring the new model and the active one on the same validation slices…")
    comparison = compare_models(config.out, active.model_path if active else None, data.val_refs, plan.device,
                                cancel=cancel)
    if comparison is not None and active is not None:
        comparison["baseline_version"] = active.version_id
    version = versions.add_trained(config.out, data.summary(), comparison["candidate"] if comparison else None,
                                   comparison, name=f"retrained on {data.num_slices} slices of {data.num_cases} case(s)")
    shutil.rmtree(folder, ignore_errors=True)
    return version


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

    cancel_when_parent_ends(cancel, out)
    torch.set_num_threads(torch_threads)
    emit = lambda kind, value: out.put((kind, value))  # noqa: E731
    try:
        emit("result", retrain(Path(workspace_root), RetrainPlan.from_json(plan_json), resume, emit, cancel))
    except Cancelled as exc:
        emit("cancelled", str(exc))
    except MandibleStudioError as exc:
        emit("failed", str(exc))
    except MemoryError:
        emit("failed", "training ran out of memory: lower the batch size or the input size (Advanced)")
    except Exception as exc:  # a bug or an unexpected file: report it, never leave the app waiting
        log.exception("training failed")
        emit("failed", f"training failed unexpectedly: {type(exc).__name__}: {exc}")


def run_in_process(workspace_root: Path, plan: RetrainPlan, resume: bool, on_item: Callable[[object], None],
                   progress, cancel: threading.Event, torch_threads: int | None = None) -> object:
    """Worker-thread body: start the training process, relay its reports, forward a cancel; returns the
    new ModelVersion or raises Cancelled / TrainingError like the in-process trainer would."""
    context = multiprocessing.get_context("spawn")
    out, child_cancel = context.Queue(), context.Event()
    threads = torch_threads or max(1, (os.cpu_count() or 2) - 1)
    process = context.Process(target=child_main, name="mandible-training", daemon=True,
                              args=(str(workspace_root), plan.to_json(), resume, out, child_cancel, threads))
    process.start()
    final = None
    try:
        while final is None:
            if cancel.is_set():
                child_cancel.set()
            try:
                kind, value = out.get(timeout=POLL_S)
            except queue.Empty:
                if not process.is_alive() and out.empty():
                    raise TrainingError(f"the training process ended unexpectedly (exit code {process.exitcode}); "
                                        "Resume continues from the last finished epoch")
                continue
            if kind == "progress":
                progress(*value)
            elif kind == "item":
                on_item(value)
            else:
                final = kind
        if final == "result":
            return value
        raise Cancelled(value) if final == "cancelled" else TrainingError(value)
    finally:
        # After its final report the child has written everything and only tears its interpreter down (seconds
        # with torch, more under load): that is not worth a longer wait. Otherwise it stops at its next step.
        child_cancel.set()
        process.join(timeout=EXIT_GRACE_S if final else STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join()
        out.close()
