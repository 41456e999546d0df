"""How long a training run will take here: time real training steps of the chosen network on this machine's
device, then scale by the slices and epochs (docs/decisions/123). No constant from another machine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.training.config import TrainingConfig
from core.training.epoch import EpochRunner
from core.training.schedule import UNFROZEN

# A validation pass costs about a third of a training step per slice (forward only).
VALIDATION_SHARE = 1.0 / 3.0


@dataclass(frozen=True)
class StepTime:
    seconds_per_slice: float  # one training slice, forward and backward, on `device`
    device: str

    def run_seconds(self, train_slices: int, val_slices: int, epochs: int) -> float:
        return self.seconds_per_slice * epochs * (train_slices + VALIDATION_SHARE * val_slices)


def measure_step(config: TrainingConfig, batch: int = 2) -> StepTime:
    """Time a real training step (augmentation, forward, loss, backward, Adam) of `config`'s network at its
    input size on its device, on random slices; the first step warms up and is not counted."""
    runtime = Runtime.select(config.device, config.precision)
    network = MandibleUNet(config.model_config())
    runner = EpochRunner(network, runtime, config, config.schedule())
    runner.enter_stage(UNFROZEN, None)
    size, planes = config.input_size, 1 + 2 * config.context_slices
    generator = torch.Generator(device=runtime.device).manual_seed(0)
    hu = torch.rand(batch, planes, size, size, generator=generator, device=runtime.device) * 2000 - 1000
    labels = (hu[:, 0] > 300).to(torch.uint8)
    windows = torch.tensor([[c, w] for _, c, w in network.config.windows], device=runtime.device).expand(batch, 3, 2)
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        if runner.augmentation is not None:
            hu, labels, windows = runner.augmentation.apply(hu, labels, windows, generator)
        float(runner.train_step(hu, labels, windows, runner.schedule.lr_unfrozen))  # waits for the device
        timings.append(time.perf_counter() - start)
    return StepTime(timings[-1] / batch, runtime.describe())
