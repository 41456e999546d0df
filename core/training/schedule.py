"""The paper's two-stage transfer schedule: encoder frozen first, then all layers, each stage with its own
learning rate; optionally shaped over the run by a cosine or poly decay (issue 11; docs/decisions/122).

The numbers have no defaults here: they live once, in TrainingConfig.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

FROZEN = "frozen"
UNFROZEN = "unfrozen"
LR_SHAPES = ("constant", "cosine", "poly")
POLY_POWER = 0.9


@dataclass(frozen=True)
class TwoStageSchedule:
    epochs: int
    freeze_epochs: int
    lr_frozen: float
    lr_unfrozen: float
    lr_shape: str = "constant"  # the paper's constant rates

    def __post_init__(self):
        if self.epochs < 1 or not 0 <= self.freeze_epochs <= self.epochs:
            raise ValueError(f"need epochs >= 1 and 0 <= freeze epochs <= epochs "
                             f"(got {self.epochs} and {self.freeze_epochs})")
        if self.lr_shape not in LR_SHAPES:
            raise ValueError(f"learning-rate schedule {self.lr_shape!r}: choose one of {', '.join(LR_SHAPES)}")

    def stage(self, epoch: int) -> str:
        """Stage of 0-based `epoch`."""
        return FROZEN if epoch < self.freeze_epochs else UNFROZEN

    def lr(self, stage: str) -> float:
        """The stage's base rate (the rate at its start)."""
        return self.lr_frozen if stage == FROZEN else self.lr_unfrozen

    def lr_at(self, epoch: int, step: int, steps: int) -> float:
        """Rate of 0-based `step` of `steps` in 0-based `epoch`: the stage's base rate times the decay of the
        shape over the run's progress (a pure function of the position, so a resumed run repeats it)."""
        progress = (epoch + step / max(1, steps)) / self.epochs
        if self.lr_shape == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        elif self.lr_shape == "poly":
            factor = (1.0 - progress) ** POLY_POWER
        else:
            factor = 1.0
        return self.lr(self.stage(epoch)) * factor
