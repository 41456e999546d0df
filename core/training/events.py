"""What a training run tells its watchers, one frozen dataclass per kind of news (picklable: the app's training
runs in a child process and sends them over a pipe, gui/process_runner.py).

`core.training.trainer.run_training` yields Preparing, StepDone and EpochDone, then TrainingDone.
`core.training.retrain.retrain` wraps it: Gathering, then DataReady, the trainer's events, Comparing; the new
model version is its return value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Preparing:
    """The cases' slices are being read and resampled for the network (`step` of `steps`)."""

    step: int
    steps: int
    message: str


@dataclass(frozen=True)
class StepDone:
    """A training step; `step` is 1-based within the epoch, `epoch` 0-based; `loss` the mean since the last."""

    stage: str
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    eta_s: float | None
    message: str


@dataclass(frozen=True)
class EpochDone:
    """An epoch ended and its checkpoint is being written; `metrics` (dice, miou) are on the held-out cases."""

    stage: str
    epoch: int
    epochs: int
    loss: float
    metrics: dict = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class TrainingDone:
    """The best epoch's model is saved; `metrics` are its held-out scores and the file's sha256."""

    epochs: int
    metrics: dict
    message: str


TrainingEvent = Union[Preparing, StepDone, EpochDone, TrainingDone]


@dataclass(frozen=True)
class Gathering:
    """The workspace's slices are being read and staged."""

    step: int
    total: int
    message: str


@dataclass(frozen=True)
class DataReady:
    """What the run trains and checks on: {"cases", "slices", "train": {case: [slices]}, "validation": {...}}."""

    summary: dict


@dataclass(frozen=True)
class Comparing:
    """The new model and the active one are being measured on the held-out cases."""

    message: str


RetrainEvent = Union[Gathering, DataReady, TrainingEvent, Comparing]
