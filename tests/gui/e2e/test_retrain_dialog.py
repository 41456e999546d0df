"""The Retrain dialog and the training panel say what will really happen (issue 13 items 1, 2, 10, 11):
autosaved work counts and every slice is listed, no promise of checking without held-out cases, a time estimate
from a step measured here, Advanced fields usable, no stale progress, labels that fit, plain words."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QLabel

from core.annotation.slice_status import SliceStatus
from core.training.events import EpochDone, StepDone
from core.training.workspace_data import TrainingInventory, TrainingSlice
from gui import close_guard
from core.training.plans import SliceCounts, plan_seconds
from gui.ai.retrain_dialog import RetrainDialog
from gui.ai.retrain_texts import duration_text, slice_ranges
from gui.ai.training_panel import TrainingPanel
from tests.support.paths import SAMPLE_DIR

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JARGON = ("lr ", "frozen encoder", "Fine-tune", "Validation share", "MIoU", "Dice", "vs. active", "Empty slices",
          "epoch")


def _inventory(cases: dict[str, list[int]], autosaved: int = 0, excluded: dict | None = None) -> TrainingInventory:
    slices = []
    for case, indexes in cases.items():
        for number, index in enumerate(indexes):
            slices.append(TrainingSlice(case, case, Path("/ct"), None, index, Path(f"/{index}.json"),
                                        Path(f"/{index}.npz") if number < autosaved else None))
    return TrainingInventory(slices, dict(excluded or {}))


def _visible_texts(dialog: RetrainDialog) -> list[str]:
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    texts += [dialog.slice_list.item(i).text() for i in range(dialog.slice_list.count())]
    texts += [dialog.advanced.init.itemText(i) for i in range(dialog.advanced.init.count())]
    return texts + [dialog.advanced_toggle.text(), dialog.advanced.cpu_only.text()]


def test_the_dialog_lists_every_slice_that_trains_and_every_case_left_out(qtbot):
    inventory = _inventory({"pt_1": [9, 10, 11, 20]}, autosaved=3, excluded={"pt_2": "its CT is no longer at /x"})
    dialog = RetrainDialog(inventory, None)
    qtbot.addWidget(dialog)
    assert "4 slice(s)" in dialog.summary.text() and "1 case(s)" in dialog.summary.text()
    lines = [dialog.slice_list.item(i).text() for i in range(dialog.slice_list.count())]
    assert lines == ["pt_1: slices 10–12, 21; 3 not saved yet (their autosaved version is used)",
                     "pt_2: left out — its CT is no longer at /x"]


def test_no_checking_is_promised_without_held_out_cases(qtbot):
    one_case = RetrainDialog(_inventory({"pt_1": [1, 2, 3]}), None)
    qtbot.addWidget(one_case)
    assert one_case.checking_label.text().startswith("Nothing is kept aside")
    assert "best" not in one_case.checking_label.text() + one_case.schedule_label.text()
    two_cases = RetrainDialog(_inventory({"pt_1": [1, 2], "pt_2": [5, 6]}), None)
    qtbot.addWidget(two_cases)
    assert two_cases.checking_label.text().startswith("1 case(s) are kept aside")
    two_cases.advanced_toggle.setChecked(True)
    two_cases.advanced.val_fraction.setValue(0.0)
    assert two_cases.checking_label.text().startswith("Nothing is kept aside")


@pytest.mark.process
def test_the_time_estimate_comes_from_a_training_step_measured_here(qtbot):
    dialog = RetrainDialog(_inventory({"pt_1": list(range(10))}), None)
    qtbot.addWidget(dialog)
    dialog.advanced_toggle.setChecked(True)
    dialog.advanced.cpu_only.setChecked(True)
    with qtbot.waitSignal(dialog.timer.measured, timeout=600_000):  # only stops a hang (a loaded 2-core machine)
        dialog.advanced.size.setValue(64)  # a size not measured yet in this session: measuring starts
        assert "measuring one training step" in dialog.device_label.text()
    text = dialog.device_label.text()
    step = dialog.timer.result_for(dialog.plan())
    assert step is not None and step.seconds_per_slice > 0
    assert f"{step.seconds_per_slice:.2f} s per slice" in text and "measured here" in text
    assert duration_text(plan_seconds(step, dialog.plan(), SliceCounts({"pt_1": 10}))) in text


def test_durations_read_as_plain_words():
    assert [duration_text(s) for s in (30, 60, 80, 150, 3000, 9000)] == [
        "under a minute", "about 1 minute", "about 1 minute", "about 2 minutes", "about 50 minutes",
        "about 2.5 hours"]
    assert slice_ranges([0, 1, 2, 5, 7, 8]) == "1–3, 6, 8–9"


def test_advanced_settings_are_hidden_until_asked_for_and_then_all_usable(qtbot):
    dialog = RetrainDialog(_inventory({"pt_1": [1]}), Path("/active.msmodel"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.advanced.isVisible()
    dialog.advanced_toggle.click()
    assert dialog.advanced.isVisible()
    form = dialog.advanced
    fields = (form.epochs, form.freeze_epochs, form.lr, form.lr_unfrozen, form.batch, form.size, form.mm_per_pixel,
              form.val_fraction, form.max_slices, form.init, form.init_file, form.cpu_only)
    assert all(field.isEnabled() and field.isVisible() for field in fields)
    dialog.advanced.epochs.setValue(7)
    assert dialog.plan().value("epochs") == 7 and "7 round(s)" in dialog.schedule_label.text()


def test_the_dialog_speaks_plain_words_and_keeps_the_terms_in_tooltips(qtbot):
    dialog = RetrainDialog(_inventory({"pt_1": [1, 2], "pt_2": [3]}), Path("/active.msmodel"))
    qtbot.addWidget(dialog)
    for text in _visible_texts(dialog):
        assert not any(word.lower() in text.lower() for word in JARGON), text
    form = dialog.advanced
    assert "learning rate (lr)" in form.lr.toolTip().lower() and "frozen" in form.freeze_epochs.toolTip().lower()


def _step(epoch: int, epochs: int, step: int = 1, steps: int = 1) -> StepDone:
    return StepDone("frozen", epoch, epochs, step, steps, 0.5, 75.0, "")


def _epoch(epoch: int, epochs: int, metrics: dict) -> EpochDone:
    return EpochDone("frozen", epoch, epochs, 0.5, metrics)


def test_a_new_run_shows_nothing_of_the_previous_one_and_buttons_say_what_they_do(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.start(resumed=False)
    assert panel.resume_button.isEnabled() is False and panel.cancel_button.isEnabled()
    panel.show_event(_step(0, 1))
    panel.show_event(_epoch(0, 1, {"miou": 0.9, "dice": 0.8}))
    assert panel.epoch.text() == "Round 1 / 1, step 1 / 1" and panel.eta.text() == "Time left: about 1 minute"
    panel.cancelling()
    assert panel.cancel_button.text() == "Cancelling…"
    panel.stopped("Cancelled.", can_resume=True)
    assert panel.cancel_button.text() == "Cancel" and not panel.cancel_button.isEnabled()
    assert panel.resume_button.isEnabled()

    panel.start(resumed=False)  # the next run
    assert panel.epoch.text() == "" and panel.stage.text() == "" and panel.eta.text() == ""
    assert panel.table.rowCount() == 0 and panel.chart.losses == []
    assert not panel.resume_button.isEnabled()


def test_chart_labels_and_table_columns_are_not_cut(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 420)
    panel.show()
    panel.start(resumed=False)
    for step, loss in enumerate((0.3333, 0.25, 0.125), start=1):
        panel.show_event(_step(0, 2, step, 3))
        panel.chart.add_loss(loss)
    panel.show_event(_epoch(0, 2, {"miou": 0.93456, "dice": 0.87654}))
    chart = panel.chart
    for rect, text in chart.axis_labels():
        assert chart.fontMetrics().horizontalAdvance(text) <= rect.width()
        assert rect.right() <= chart.plot_rect().left()
    header = panel.table.horizontalHeader()
    for column in range(panel.table.columnCount()):
        text = panel.table.horizontalHeaderItem(column).text()
        cell = panel.table.item(0, column).text()
        needed = max(header.fontMetrics().horizontalAdvance(text), panel.table.fontMetrics().horizontalAdvance(cell))
        assert header.sectionSize(column) >= needed, text


@pytest.fixture
def autosaved_window(qtbot, make_window):
    """The sample case with its label imported and every labelled slice marked reviewed, nothing saved."""
    label = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"
    if not SAMPLE_DIR.is_dir() or not label.is_file():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    from tests.support.window import open_case

    window = make_window(autosave_ms=60_000)  # no timer autosave during the test: Retrain must do it
    open_case(qtbot, window, SAMPLE_DIR)
    with qtbot.waitSignal(window.labels_imported, timeout=60_000):
        assert window.import_labels(label)
    return window


def test_done_slices_that_were_never_saved_still_train(qtbot, autosaved_window, monkeypatch):
    window = autosaved_window
    ai = window.ai
    done = [i for i in range(window.session.num_slices) if window.session.status(i).is_training_data]
    assert done and all(window.session.status(i) is SliceStatus.EDITED for i in done)
    seen = []

    def exec_(dialog: RetrainDialog) -> int:
        seen.append((dialog.summary.text(), dialog.slice_list.item(0).text()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(RetrainDialog, "exec", exec_)
    monkeypatch.setattr(close_guard, "ask_cancel_jobs", lambda parent, what: True)
    assert not ai.training.retrain()
    summary, line = seen[0]
    assert f"{len(done)} slice(s)" in summary and "1 case(s)" in summary
    assert f"{len(done)} not saved yet" in line
