"""The Retrain dialog's plan (issue 22 item 3): continuing the starter model keeps its 128 px at 4 mm; without a CUDA
GPU the plan that finishes here is the default, its rounds follow the step measured here, and the dialog says how long
it takes and what the paper's full schedule would take instead; with a GPU the paper's schedule is the default."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.model.model_file import starter_model
from core.training.plans import FINISHING_MAX_SLICES, SliceCounts, finishing_settings, plan_seconds
from core.training.retrain import RetrainPlan
from core.training.step_time import StepTime
from core.training.workspace_data import TrainingInventory, TrainingSlice
from gui.ai import retrain_dialog, retrain_texts
from gui.ai.retrain_dialog import RetrainDialog
from gui.ai.retrain_texts import duration_text
from gui.ai.step_timer import step_timer

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

CASES = {"pt_1": 25, "pt_2": 25}
STEP = StepTime(seconds_per_slice=1.5, device="cpu (fp32)", frozen_seconds_per_slice=0.6)


def _inventory() -> TrainingInventory:
    return TrainingInventory([TrainingSlice(case, case, Path("/ct"), None, i, Path(f"/{i}.json"), None)
                              for case, count in CASES.items() for i in range(count)])


@pytest.fixture
def dialog(qtbot):
    dialog = RetrainDialog(_inventory(), starter_model())
    qtbot.addWidget(dialog)
    yield dialog
    dialog.timer.stop()


def _measured(dialog: RetrainDialog, monkeypatch) -> None:
    """The step measurement for the dialog's plan arrives (as the step timer delivers it)."""
    plan = dialog.plan()
    key = (plan.value("input_size"), plan.value("device"), plan.value("encoder"), plan.value("attention"))
    monkeypatch.setitem(step_timer().results, key, STEP)
    step_timer().measured.emit(STEP)


def test_continuing_the_starter_keeps_its_scale_and_a_cpu_gets_the_plan_that_finishes(dialog, monkeypatch):
    plan = dialog.plan()
    assert (plan.value("input_size"), round(plan.value("mm_per_pixel"))) == (128, 4)
    assert "128×128 pixels, 4 mm per pixel" in dialog.schedule_label.text()
    assert dialog.plan_choice.currentData() == "finishing"
    assert "measuring" in dialog.device_label.text()
    _measured(dialog, monkeypatch)
    expected = finishing_settings(STEP, SliceCounts(CASES), plan.value("val_fraction"))
    plan = dialog.plan()
    assert plan.value("epochs") == expected["epochs"] == plan.value("freeze_epochs")
    assert plan.settings["max_slices_per_case"] == FINISHING_MAX_SLICES
    assert "kept fixed throughout" in dialog.schedule_label.text()
    assert f"Time: {duration_text(plan_seconds(STEP, plan, SliceCounts(CASES)))}" in dialog.device_label.text()
    paper = dialog.alternative_label.text()
    assert paper.startswith("The paper's full schedule (100 rounds, the first 25")
    paper_plan = plan.settings | {"epochs": 100, "freeze_epochs": 25}
    paper_plan.pop("max_slices_per_case")
    assert duration_text(plan_seconds(STEP, RetrainPlan(paper_plan), SliceCounts(CASES))) in paper


def test_choosing_the_paper_schedule_and_then_own_settings(dialog, monkeypatch):
    _measured(dialog, monkeypatch)
    dialog.plan_choice.setCurrentIndex(dialog.plan_choice.findData("paper"))
    plan = dialog.plan()
    assert (plan.value("epochs"), plan.value("freeze_epochs")) == (100, 25)
    assert "max_slices_per_case" not in plan.settings and plan.value("input_size") == 128
    assert dialog.alternative_label.text().startswith("The plan that finishes on this computer")
    dialog.advanced_toggle.setChecked(True)
    dialog.advanced.epochs.setValue(7)
    assert dialog.plan_choice.currentData() == "custom" and dialog.plan().value("epochs") == 7
    step_timer().measured.emit(STEP)  # a later measurement leaves the user's own settings alone
    assert dialog.plan().value("epochs") == 7


def test_changing_the_image_size_keeps_the_field_of_view(dialog):
    dialog.advanced_toggle.setChecked(True)
    dialog.advanced.size.setValue(256)
    assert dialog.plan().value("mm_per_pixel") == pytest.approx(2.0, abs=0.05)  # 128 px x 4 mm = 256 px x 2 mm


def test_with_a_graphics_card_the_paper_schedule_is_the_default(qtbot, monkeypatch):
    gpu = lambda: ("the graphics card Test GPU (24.0 GB)", True)  # noqa: E731
    monkeypatch.setattr(retrain_dialog, "describe_device", gpu)
    monkeypatch.setattr(retrain_texts, "describe_device", gpu)
    dialog = RetrainDialog(_inventory(), starter_model())
    qtbot.addWidget(dialog)
    assert dialog.plan_choice.currentData() == "paper" and dialog.plan().value("epochs") == 100
    assert dialog.plan().value("input_size") == 128  # still the model's own size
    dialog.advanced_toggle.setChecked(True)
    dialog.advanced.cpu_only.setChecked(True)  # on the processor: the plan that finishes
    assert dialog.plan_choice.currentData() == "finishing"
    dialog.timer.stop()
