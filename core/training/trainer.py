"""The training run: a generator of typed events (core.training.events), resumable after every epoch.

    for event in run_training(config, cancel):   # or train(config, progress, cancel)
        ...

Cancel is checked before every step; the run then stops with Cancelled and the checkpoint of
the last finished epoch stays on disk, so the same call resumes it (stage included). StepDone events
come every `report_every` steps (each one waits for the device); checkpoints are written in a
background thread, and the run waits for the last one before it returns or raises.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Generator, Iterator

import torch

from core.errors import TrainingError
from core.model.model_file import save_model
from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.ranks import Ranks
from core.training.checkpoint import Checkpoint, CheckpointWriter, checkpoint_path, to_host
from core.training.config import TrainingConfig
from core.training.data import discover_cases, split_cases
from core.training.distributed import from_main
from core.training.epoch import EpochRunner
from core.training.events import EpochDone, Preparing, StepDone, TrainingDone, TrainingEvent
from core.training.slices import SliceSet, iter_prepare_slices, steps_per_epoch
from core.training.warm_start import start_weights

log = logging.getLogger(__name__)


@dataclass
class _RunState:
    """What a checkpoint carries besides tensors."""

    init: dict
    history: list = field(default_factory=list)
    best_epoch: int = -1
    best_dice: float = -1.0
    best_metrics: dict | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _prepare(config: TrainingConfig, cancel) -> Generator[Preparing, None, tuple]:
    refs = discover_cases(config.data)
    train_refs, val_refs = split_cases(refs, config.val_fraction, config.seed)
    log.info("%d cases: %d for training, %d for validation (split by case)", len(refs), len(train_refs), len(val_refs))
    sets = []
    for label, group in (("training", train_refs), ("validation", val_refs)):
        if not group:
            sets.append(None)
            continue
        reader = iter_prepare_slices(group, config.model_config(), config.sampling, cancel)
        while True:
            try:
                step, total, message = next(reader)
            except StopIteration as finished:
                sets.append(finished.value)
                break
            yield Preparing(step, total, f"{label}: {message}")
    return sets[0], sets[1], [r.name for r in train_refs], [r.name for r in val_refs]


def _read_checkpoint(config: TrainingConfig, fingerprint: str) -> Checkpoint | TrainingError | None:
    path = checkpoint_path(config.out)
    if not path.exists() or config.restart:
        return None
    try:
        checkpoint = Checkpoint.load(path)
    except TrainingError as exc:
        return exc
    if checkpoint.fingerprint != fingerprint:
        return TrainingError(f"{path} is from a run with other settings or data; run with the same settings "
                             "to resume it, or restart (--restart) to discard it")
    return checkpoint


def _start(config: TrainingConfig, network: MandibleUNet, fingerprint: str,
           ranks: Ranks) -> tuple[_RunState, Checkpoint | None]:
    """The run's state and checkpoint, read by rank 0 and handed to the other processes (which take their starting
    weights from rank 0 when their network is joined to it)."""
    found = from_main(_read_checkpoint(config, fingerprint) if ranks.is_main else None, ranks)
    if isinstance(found, TrainingError):
        raise found
    if found is not None:
        network.load_state_dict(found.model)
        log.info("resuming from %s at epoch %d", checkpoint_path(config.out), found.next_epoch + 1)
        return _RunState(**found.state), found
    return _RunState(init=start_weights(network, config.init) if ranks.is_main else {}), None


def run_training(config: TrainingConfig, cancel: threading.Event | None = None,
                 ranks: Ranks = Ranks()) -> Iterator[TrainingEvent]:
    """With `ranks` of several processes (torchrun), inside core.training.distributed.process_group."""
    runtime = Runtime.select(config.device, config.precision)
    schedule = config.schedule()
    train_set, val_set, train_names, val_names = yield from _prepare(config, cancel)
    torch.manual_seed(config.seed)  # the random initialisation of what no weights file covers
    network = MandibleUNet(config.model_config())
    fingerprint = config.fingerprint(train_names, val_names)
    state, checkpoint = _start(config, network, fingerprint, ranks)
    if len(train_set) < ranks.world:
        raise TrainingError(f"{len(train_set)} training slices cannot be shared by {ranks.world} processes")
    runner = EpochRunner(network, runtime, config, schedule, ranks=ranks)
    first = checkpoint.next_epoch if checkpoint else 0
    # The saved optimizer belongs to the stage of the last finished epoch; resuming on the epoch
    # that unfreezes starts the new stage's optimizer afresh, as an uninterrupted run does.
    same_stage = checkpoint is not None and first > 0 and schedule.stage(first - 1) == schedule.stage(first)
    runner.enter_stage(schedule.stage(first), checkpoint.optimizer if same_stage else None)
    best_model = checkpoint.best_model if checkpoint else None
    steps = steps_per_epoch(len(train_set), config.batch_size, ranks)
    log.info("training on %s: %d slices, %d steps per epoch, epochs %d-%d", runtime.describe(), len(train_set),
             steps, first + 1, schedule.epochs)
    train_slices = runner.place(train_set)
    val_slices = runner.place(val_set) if val_set is not None else None
    writer = CheckpointWriter(checkpoint_path(config.out), enabled=ranks.is_main)
    clock = _Clock(schedule.epochs, steps)
    try:
        for epoch in range(first, schedule.epochs):
            stage = schedule.stage(epoch)
            if stage != runner.stage:
                runner.enter_stage(stage, None)
            epoch_start = time.monotonic()
            loss = yield from _steps(runner, train_slices, epoch, stage, clock, cancel)
            metrics = runner.validate(val_slices) if val_slices is not None else {}
            record = {"epoch": epoch, "stage": stage, "loss": loss, **metrics}
            state.history.append(record)
            state.seconds += time.monotonic() - epoch_start
            if val_set is None or metrics["dice"] > state.best_dice:
                state.best_epoch, state.best_dice = epoch, metrics.get("dice", -1.0)
                state.best_metrics = metrics or None
                best_model = to_host(network.state_dict()) if ranks.is_main else None
            writer.write(Checkpoint(fingerprint, epoch + 1, network.state_dict(), runner.optimizer.state_dict(),
                                    best_model, state.to_dict()))
            yield EpochDone(stage, epoch, schedule.epochs, record["loss"], metrics,
                            _epoch_message(record, schedule.epochs))
    finally:  # a cancel, an error or a closed generator still leaves the last checkpoint whole on disk
        writer.wait()
    if not ranks.is_main:
        yield TrainingDone(schedule.epochs, {},
                           f"process {ranks.rank + 1} of {ranks.world} done; the first writes the model")
        return
    yield _finish(config, network, best_model, state, runtime, train_set, val_set, writer, ranks)


def _steps(runner: EpochRunner, slices, epoch: int, stage: str, clock: "_Clock",
           cancel) -> Iterator[StepDone]:
    """One epoch's StepDone events; returns the epoch's mean loss."""
    loss_sum, reported, epochs, steps = 0.0, 0, clock.epochs, clock.steps
    for step, loss in runner.train_epoch(slices, epoch, cancel):
        clock.tick()
        if loss is None:
            continue
        loss_sum, reported = loss_sum + loss * (step - reported), step  # each report: the mean since the last
        eta = clock.eta(epoch, step)
        yield StepDone(stage, epoch, epochs, step, steps, loss, eta,
                       f"epoch {epoch + 1}/{epochs} ({stage}) step {step}/{steps} loss {loss:.4f}, "
                       f"{_minutes_left(eta)}")
    return loss_sum / steps


class _Clock:
    """Time left, from the steps this session has run."""

    def __init__(self, epochs: int, steps: int):
        self.epochs, self.steps = epochs, steps
        self.start, self.count = time.monotonic(), 0

    def tick(self) -> None:
        self.count += 1

    def eta(self, epoch: int, step: int) -> float:
        per_step = (time.monotonic() - self.start) / max(1, self.count)
        return per_step * ((self.epochs - epoch - 1) * self.steps + self.steps - step)


def _minutes_left(seconds: float) -> str:
    minutes = seconds / 60
    return "under a minute left" if minutes < 1 else f"about {minutes:.0f} minute{'s' if round(minutes) != 1 else ''} left"


def _epoch_message(record: dict, epochs: int) -> str:
    text = f"epoch {record['epoch'] + 1}/{epochs} ({record['stage']}): loss {record['loss']:.4f}"
    if "dice" in record:
        text += f", validation Dice {record['dice']:.4f}, MIoU {record['miou']:.4f}"
    log.info(text)
    return text


def _finish(config: TrainingConfig, network: MandibleUNet, best_model: dict, state: _RunState, runtime: Runtime,
            train_set: SliceSet, val_set: SliceSet | None, writer: CheckpointWriter, ranks: Ranks) -> TrainingDone:
    network.load_state_dict(best_model)
    schedule = config.schedule()
    info = {
        "encoder_init": state.init,
        "training": {"cases": len(train_set.cases), "slices": len(train_set),
                     "validation_cases": len(val_set.cases) if val_set else 0,
                     "validation_slices": len(val_set) if val_set else 0,
                     "sampling": config.sampling.__dict__, "augment": config.augment,
                     "scanner_augment": config.scanner_augment,
                     "loss": f"focal gamma 2 + {config.dice_weight} x Dice"},
        "schedule": {"epochs": schedule.epochs, "freeze_epochs": schedule.freeze_epochs, "lr": schedule.lr_frozen,
                     "lr_unfrozen": schedule.lr_unfrozen, "lr_schedule": schedule.lr_shape,
                     "batch_size": config.batch_size, "optimizer": "Adam",
                     "processes": ranks.world, "steps_per_epoch": steps_per_epoch(len(train_set), config.batch_size,
                                                                                 ranks)},
        "best_epoch": state.best_epoch + 1,
        "validation": state.best_metrics,
        "history": state.history,
        "device": runtime.describe(),
        "training_seconds": round(state.seconds, 1),
    }
    sha = save_model(config.out, network, info)
    writer.discard()
    message = f"model saved to {config.out} (best epoch {state.best_epoch + 1})"
    log.info(message)
    return TrainingDone(schedule.epochs, {**(state.best_metrics or {}), "sha256": sha}, message)


def train(config: TrainingConfig, progress: Callable[[int, int, str], None] | None = None,
          cancel: threading.Event | None = None) -> TrainingDone:
    """Run to the end; `progress(step, total, message)` counts steps over the whole schedule."""
    last = None
    for event in run_training(config, cancel):
        last = event
        if progress is not None and isinstance(event, StepDone):
            progress(event.epoch * event.steps + event.step, event.epochs * event.steps, event.message)
    return last
