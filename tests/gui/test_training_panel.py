"""The Training panel alone, fed the typed events of a retraining run (core.training.events) as the runner
delivers them: what a user reads at each stage, from gathering the slices to the comparison."""
from __future__ import annotations

from core.training.events import (Comparing, DataReady, EpochDone, Gathering, Preparing, StepDone,
                                  TrainingDone)
from gui.ai.training_panel import TrainingPanel


def test_each_kind_of_event_shows_what_the_run_is_doing(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.start(resumed=False)
    assert panel.state.text() == "Gathering the training slices…" and panel.cancel_button.isEnabled()
    panel.show_event(Gathering(1, 3, "reading case pt_1"))
    assert panel.state.text() == "Reading case pt_1" and (panel.bar.value(), panel.bar.maximum()) == (1, 3)
    panel.show_event(DataReady({"cases": 3, "slices": 40, "train": {}, "validation": {"pt_3": [1]}}))
    assert panel.state.text() == "Training on 40 slice(s) of 3 case(s); 1 case(s) kept aside for checking."
    panel.show_event(Preparing(2, 2, "training: pt_2"))
    assert panel.bar.format() == "reading %v / %m cases"
    panel.show_event(StepDone("frozen", 0, 2, 5, 10, 0.42, 30.0, ""))
    assert panel.epoch.text() == "Round 1 / 2, step 5 / 10" and panel.stage.text() == "Stage: warm-up"
    assert panel.eta.text() == "Time left: under a minute" and panel.chart.losses == [0.42]
    panel.show_event(EpochDone("unfrozen", 1, 2, 0.3, {"miou": 0.81, "dice": 0.77}))
    assert panel.stage.text() == "Stage: full" and panel.table.rowCount() == 1
    assert [panel.table.item(0, c).text() for c in range(5)] == ["2", "full", "0.3000", "0.8100", "0.7700"]
    panel.show_event(TrainingDone(2, {"dice": 0.77}, "model saved (best epoch 2)"))
    assert panel.state.text() == "model saved (best epoch 2)"
    panel.show_event(Comparing("measuring the new model and the active one…"))
    assert panel.state.text() == "Measuring the new model and the active one…" and panel.bar.maximum() == 0
