"""The plans Retrain proposes (issue 22 item 3): continuing a model keeps its scale, the plan for a machine without
CUDA finishes within its budget by the measured step time, and the split it counts on is the trainer's own."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.model.config import ModelConfig
from core.model.model_file import read_document, starter_model
from core.training.data import CaseRef, split_cases
from core.training.plans import (FINISHING_BUDGET_S, FINISHING_EPOCHS, FINISHING_MAX_SLICES, SliceCounts,
                                 continuing_settings, finishing_settings, paper_settings, plan_seconds)
from core.training.retrain import MAX_SLICES, RetrainPlan
from core.training.step_time import VALIDATION_SHARE, StepTime
from core.training.workspace_data import WorkspaceTrainingData


def test_continuing_the_starter_model_keeps_its_128_px_at_4_mm():
    config = ModelConfig.from_dict(read_document(starter_model())[1]["config"])
    settings = continuing_settings(config)
    assert (settings["input_size"], settings["mm_per_pixel"]) == (128, pytest.approx(4.0, abs=0.1))
    model = RetrainPlan(settings).training_config(_staged(), "out.msmodel").model_config()
    assert (model.input_size, model.mm_per_pixel, model.encoder) == (config.input_size, config.mm_per_pixel,
                                                                    config.encoder)


def _staged() -> WorkspaceTrainingData:
    return WorkspaceTrainingData(Path("staged"), {}, [], [], 0.2, 0)


def test_the_finishing_plan_fills_its_budget_with_the_encoder_frozen_and_a_cap_on_slices():
    step = StepTime(seconds_per_slice=1.0, device="cpu", frozen_seconds_per_slice=0.5)
    counts = SliceCounts({"case_a": 25, "case_b": 25})
    settings = finishing_settings(step, counts, val_fraction=0.2)
    assert settings["freeze_epochs"] == settings["epochs"] and settings[MAX_SLICES] == FINISHING_MAX_SLICES
    plan = RetrainPlan({**settings, "val_fraction": 0.2})
    # the plan's own estimate from the step time given above (arithmetic; nothing here is timed)
    estimate = plan_seconds(step, plan, counts)
    one_round = 0.5 * 25 + VALIDATION_SHARE * 1.0 * 25  # one case trains, one is held out
    assert estimate == pytest.approx(settings["epochs"] * one_round)
    assert estimate <= FINISHING_BUDGET_S < estimate + one_round  # as many rounds as fit, no more
    config = plan.training_config(_staged(), "out.msmodel")
    assert config.freeze_epochs == config.epochs and config.sampling.max_per_case == FINISHING_MAX_SLICES


def test_the_finishing_plan_keeps_its_fewest_and_most_rounds_and_a_fallback_before_measuring():
    counts = SliceCounts({"a": 500, "b": 500, "c": 500})
    slow = StepTime(seconds_per_slice=20.0, device="cpu", frozen_seconds_per_slice=10.0)
    fast = StepTime(seconds_per_slice=0.001, device="cuda", frozen_seconds_per_slice=0.001)
    assert finishing_settings(slow, counts, 0.2)["epochs"] == FINISHING_EPOCHS[0]
    assert finishing_settings(fast, counts, 0.2)["epochs"] == FINISHING_EPOCHS[1]
    assert 1 <= finishing_settings(None, counts, 0.2)["epochs"] <= FINISHING_EPOCHS[1]


def test_the_paper_schedule_is_the_training_defaults_on_every_slice():
    settings = paper_settings()
    config = RetrainPlan({k: v for k, v in settings.items() if v is not None}).training_config(_staged(), "m")
    assert (config.epochs, config.freeze_epochs, config.sampling.max_per_case) == (100, 25, None)


@pytest.mark.parametrize("names", [["b-2", "b", "a_1", "a"], [f"case{n}" for n in range(7)]])
def test_slice_counts_hold_out_the_cases_the_trainer_will_hold_out(names):
    per_case = {name: 10 + n for n, name in enumerate(names)}
    refs = [CaseRef(name, "nnunet", Path(f"{name}_0000.nii.gz"), Path(f"{name}.nii.gz"))
            for name in sorted(names, key=lambda name: f"{name}.nii.gz")]  # discover_cases' order
    _, val = split_cases(refs, 0.3, seed=5)
    train_slices, val_slices = SliceCounts(per_case).split(0.3, 5, cap=None)
    assert val_slices == sum(per_case[ref.name] for ref in val)
    assert train_slices == sum(per_case.values()) - val_slices
    assert SliceCounts(per_case).split(0.3, 5, cap=11)[1] == sum(min(11, per_case[ref.name]) for ref in val)


def test_step_time_counts_frozen_and_learning_rounds_at_their_own_cost():
    step = StepTime(seconds_per_slice=2.0, device="cpu", frozen_seconds_per_slice=0.5)
    assert step.run_seconds(10, 0, epochs=4, freeze_epochs=1) == pytest.approx(0.5 * 10 + 3 * 2.0 * 10)
    assert StepTime(2.0, "cpu").run_seconds(10, 0, epochs=4, freeze_epochs=4) == pytest.approx(80.0)
