"""The schedules Retrain proposes (issue 22 item 3; docs/decisions/241).

* Continuing a model keeps what it learnt to see: its input size, millimetres per pixel and architecture.
* The paper's schedule (TrainingConfig's defaults: 100 rounds, 25 of them with the encoder frozen, every slice)
  is the default where a CUDA GPU trains.
* Without one, the default is a plan that finishes here: the encoder frozen throughout (no gradients through
  ResNet-50, the costly half of a step), at most FINISHING_MAX_SLICES slices per case, and as many rounds as fit in
  FINISHING_BUDGET_S by the step time measured on this machine (between FINISHING_EPOCHS), FALLBACK_EPOCHS until
  it is measured.

Both plans are RetrainPlan settings; the time each takes comes from a StepTime measured here.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.model.config import ModelConfig
from core.training.config import TrainingConfig
from core.training.data import held_out_positions
from core.training.retrain import MAX_SLICES, RetrainPlan
from core.training.step_time import StepTime

FINISHING_BUDGET_S = 10 * 60.0  # training time the finishing plan fills (data, start and comparison come on top)
FINISHING_MAX_SLICES = 60  # per case
FINISHING_EPOCHS = (3, 30)  # fewest and most rounds of the finishing plan
FALLBACK_EPOCHS = 10  # the finishing plan's rounds while no step has been measured yet
PLAN_KEYS = ("epochs", "freeze_epochs", MAX_SLICES)  # what choosing a plan sets


def continuing_settings(config: ModelConfig) -> dict:
    """Settings that keep a model's own scale and architecture when training continues from it."""
    return {"input_size": config.input_size, "mm_per_pixel": config.mm_per_pixel, "encoder": config.encoder,
            "attention": config.attention}


def paper_settings() -> dict:
    """The paper's schedule: TrainingConfig's own defaults, every slice."""
    default = TrainingConfig.default
    return {"epochs": default("epochs"), "freeze_epochs": default("freeze_epochs"), MAX_SLICES: None}


@dataclass(frozen=True)
class SliceCounts:
    """How many slices each case brings, in the order the staged cases are split (docs/decisions/070)."""

    per_case: dict[str, int]  # case id -> slices

    def split(self, val_fraction: float, seed: int, cap: int | None) -> tuple[int, int]:
        """(training slices, held-out slices) as split_cases will split the staged cases, with `cap` per case."""
        names = sorted(self.per_case, key=lambda case: f"{case}.nii.gz")  # the staged label files' order
        held_out = set(held_out_positions(len(names), val_fraction, seed))
        counts = [min(self.per_case[name], cap or self.per_case[name]) for name in names]
        val = sum(n for i, n in enumerate(counts) if i in held_out)
        return sum(counts) - val, val


def finishing_settings(step: StepTime | None, slices: SliceCounts, val_fraction: float, seed: int = 0) -> dict:
    """The plan that finishes here: encoder frozen, a cap on slices, the rounds that fit in the budget."""
    low, high = FINISHING_EPOCHS
    if step is None:
        epochs = FALLBACK_EPOCHS
    else:
        train, val = slices.split(val_fraction, seed, FINISHING_MAX_SLICES)
        per_round = step.epoch_seconds(train, val, frozen=True)
        epochs = int(min(high, max(low, FINISHING_BUDGET_S // max(per_round, 1e-9))))
    return {"epochs": epochs, "freeze_epochs": epochs, MAX_SLICES: FINISHING_MAX_SLICES}


def plan_seconds(step: StepTime, plan: RetrainPlan, slices: SliceCounts) -> float:
    """How long `plan` trains on `slices` at the measured `step`."""
    cap = plan.settings.get(MAX_SLICES)
    train, val = slices.split(plan.value("val_fraction"), plan.value("seed"), cap)
    return step.run_seconds(train, val, plan.value("epochs"), plan.value("freeze_epochs"))
