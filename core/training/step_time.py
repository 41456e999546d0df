"""How long a training run will take here: time real training steps of the chosen network on this machine's
device, with the encoder frozen and learning, then scale by the slices and epochs of each stage
(docs/decisions/123, 241). No constant from another machine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.training.config import TrainingConfig
from core.training.epoch import EpochRunner
from core.training.schedule import FROZEN, UNFROZEN

# A validation pass costs about a third of a training step per slice (forward only).
VALIDATION_SHARE = 1.0 / 3.0


@dataclass(frozen=True)
class StepTime:
    seconds_per_slice: float  # one training slice, forward and backward through the whole network, on `device`
    device: str
    frozen_seconds_per_slice: float | None = None  # the same with the encoder frozen (None: as unfrozen)

    def epoch_seconds(self, train_slices: int, val_slices: int, frozen: bool) -> float:
        per_slice = self.frozen_seconds_per_slice if frozen and self.frozen_seconds_per_slice else \
            self.seconds_per_slice
        return per_slice * train_slices + VALIDATION_SHARE * self.seconds_per_slice * val_slices

    def run_seconds(self, train_slices: int, val_slices: int, epochs: int, freeze_epochs: int = 0) -> float:
        frozen = min(max(0, freeze_epochs), epochs)
        return (frozen * self.epoch_seconds(train_slices, val_slices, True)
                + (epochs - frozen) * self.epoch_seconds(train_slices, val_slices, False))


def measure_step(config: TrainingConfig, batch: int = 2) -> StepTime:
    """Time a real training step (augmentation, forward, loss, backward, Adam) of `config`'s network at its
    input size on its device, on random slices, with the encoder learning and then frozen; a first step warms up
    and is not counted."""
    runtime = Runtime.select(config.device, config.precision)
    network = MandibleUNet(config.model_config())
    runner = EpochRunner(network, runtime, config, config.schedule())
    size, planes = config.input_size, 1 + 2 * config.context_slices
    generator = torch.Generator(device=runtime.device).manual_seed(0)
    hu = torch.rand(batch, planes, size, size, generator=generator, device=runtime.device) * 2000 - 1000
    labels = (hu[:, 0] > 300).to(torch.uint8)
    windows = torch.tensor([[c, w] for _, c, w in network.config.windows], device=runtime.device).expand(batch, 3, 2)
    seconds = {}
    for stage in (UNFROZEN, UNFROZEN, FROZEN):  # the first step warms up (allocations, kernel choices)
        runner.enter_stage(stage, None)
        start = time.perf_counter()
        if runner.augmentation is not None:
            hu, labels, windows = runner.augmentation.apply(hu, labels, windows, generator)
        float(runner.train_step(hu, labels, windows, runner.schedule.lr(stage)))  # waits for the device
        seconds[stage] = time.perf_counter() - start
    return StepTime(seconds[UNFROZEN] / batch, runtime.describe(), seconds[FROZEN] / batch)
