"""The paper's two-stage transfer schedule: encoder frozen first (lr 1e-4), then all layers (lr 1e-5)."""
from __future__ import annotations

from dataclasses import dataclass

FROZEN = "frozen"
UNFROZEN = "unfrozen"


@dataclass(frozen=True)
class TwoStageSchedule:
    epochs: int = 100
    freeze_epochs: int = 25
    lr_frozen: float = 1e-4
    lr_unfrozen: float = 1e-5

    def __post_init__(self):
        if self.epochs < 1 or not 0 <= self.freeze_epochs <= self.epochs:
            raise ValueError(f"need epochs >= 1 and 0 <= freeze epochs <= epochs "
                             f"(got {self.epochs} and {self.freeze_epochs})")

    def stage(self, epoch: int) -> str:
        """Stage of 0-based `epoch`."""
        return FROZEN if epoch < self.freeze_epochs else UNFROZEN

    def lr(self, stage: str) -> float:
        return self.lr_frozen if stage == FROZEN else self.lr_unfrozen
