"""The retrain dialog: exactly which slices will train (and which cases cannot, and why), whether anything is
kept aside to check the model, the device, the plan and how long it takes here by a training step measured here,
what the other plan would take, and every setting in an Advanced section (docs/decisions/123, 241).

Continuing a model keeps its own input size and millimetres per pixel. Without a CUDA GPU the default plan is
the one that finishes here (core.training.plans); with one, the paper's schedule. The dialog fits its screen: the
text and the Advanced section scroll, Train and Cancel stay below them (docs/decisions/243).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, QSize
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QListWidget,
                               QToolButton, QVBoxLayout, QWidget)

from core.errors import ModelFileError
from core.model.config import ModelConfig
from core.model.model_file import MODEL_SUFFIX, read_document
from core.training.data import held_out_count
from core.training.plans import (SliceCounts, continuing_settings, finishing_settings, paper_settings,
                                 plan_seconds)
from core.training.retrain import RetrainPlan
from core.training.workspace_data import TrainingInventory
from gui.ai.retrain_form import AdvancedForm
from gui.ai.retrain_texts import (alternative_text, checking_text, describe_device, device_text, duration_text,
                                  inventory_lines, schedule_text)
from gui.ai.step_timer import step_timer
from gui.window_layout import fit_dialog, scrolling_column

PLANS = (("finishing", "Finish on this computer"), ("paper", "The paper's full schedule"),
         ("custom", "My own settings (Advanced)"))


def model_scale(path: str | Path | None) -> ModelConfig | None:
    """The architecture and scale recorded in a model file's header (None for anything else)."""
    if not path or Path(path).suffix != MODEL_SUFFIX or not Path(path).is_file():
        return None
    try:
        return ModelConfig.from_dict(read_document(path)[1].get("config", {}))
    except ModelFileError:
        return None


class RetrainDialog(QDialog):
    """Shows the plan for `inventory`; `plan()` is what the user accepted."""

    def __init__(self, inventory: TrainingInventory, active_model: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.setObjectName("retrainDialog")
        self._inventory = inventory
        self._active_model = active_model
        self._counts = SliceCounts({case: len(items) for case, items in inventory.by_case().items()})
        self._start: ModelConfig | None = None
        self.summary = QLabel(objectName="retrainSummary", wordWrap=True)
        self.slice_list = QListWidget(objectName="retrainSlices")
        self.slice_list.setMaximumHeight(120)
        self.checking_label = QLabel(objectName="retrainChecking", wordWrap=True)
        self.plan_choice = QComboBox(objectName="retrainPlan")
        for key, text in PLANS:
            self.plan_choice.addItem(text, key)
        self.device_label = QLabel(objectName="retrainDevice", wordWrap=True)
        self.schedule_label = QLabel(objectName="retrainSchedule", wordWrap=True)
        self.alternative_label = QLabel(objectName="retrainAlternative", wordWrap=True)
        self.advanced_toggle = QToolButton(text="Advanced settings", checkable=True, objectName="retrainAdvancedToggle")
        self.advanced = AdvancedForm(active_model is not None)
        self.advanced.setVisible(False)
        self.body = scrolling_column(self.summary, self.slice_list, self.checking_label, self._plan_row(),
                                     self.device_label, self.schedule_label, self.alternative_label,
                                     self.advanced_toggle, self.advanced)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.buttons)
        self.timer = step_timer()
        self.timer.measured.connect(self._on_measured)
        for line in inventory_lines(inventory):
            self.slice_list.addItem(line)
        self._connect()
        self._on_start_changed()
        self._choose_default_plan()
        self._fit()

    def _plan_row(self) -> QWidget:
        row = QWidget()
        form = QFormLayout(row)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Plan", self.plan_choice)
        return row

    def _connect(self) -> None:
        self.advanced_toggle.toggled.connect(self.advanced.setVisible)
        self.advanced_toggle.toggled.connect(lambda _: self._fit())
        self.advanced.changed.connect(self._describe)
        self.advanced.schedule_edited.connect(self._on_schedule_edited)
        self.advanced.start_changed.connect(self._on_start_changed)
        self.advanced.cpu_only.toggled.connect(lambda _: self._choose_default_plan())
        self.plan_choice.currentIndexChanged.connect(lambda _: self._apply_plan())

    # -- the plan ---------------------------------------------------------------------------------
    def plan(self) -> RetrainPlan:
        form = self.advanced
        key = form.init.currentData()
        init = {"active": str(self._active_model), "file": form.init_file.text().strip()}.get(key, key)
        settings = continuing_settings(self._start) if self._start is not None else {}
        settings.update({"lr": form.lr.value(), "lr_unfrozen": form.lr_unfrozen.value(),
                         "batch_size": form.batch.value(), "input_size": form.size.value(),
                         "mm_per_pixel": form.mm_per_pixel.value(), "init": init,
                         "val_fraction": form.val_fraction.value(),
                         "device": "cpu" if form.cpu_only.isChecked() else "auto"})
        settings.update({k: v for k, v in form.schedule().items() if v is not None})
        return RetrainPlan(settings)

    def _gpu_trains(self) -> bool:
        return describe_device()[1] and not self.advanced.cpu_only.isChecked()

    def _choose_default_plan(self) -> None:
        if self.plan_choice.currentData() != "custom":
            self.plan_choice.setCurrentIndex(self.plan_choice.findData("paper" if self._gpu_trains() else "finishing"))
            self._apply_plan()

    def _plan_settings(self, key: str) -> dict:
        if key == "paper":
            return paper_settings()
        step = self.timer.result_for(self.plan())
        return finishing_settings(step, self._counts, self.advanced.val_fraction.value())

    def _apply_plan(self) -> None:
        key = self.plan_choice.currentData()
        if key != "custom":
            self.advanced.set_schedule(self._plan_settings(key))
        self._describe()

    def _on_schedule_edited(self) -> None:
        with QSignalBlocker(self.plan_choice):
            self.plan_choice.setCurrentIndex(self.plan_choice.findData("custom"))

    def _on_start_changed(self) -> None:
        key = self.advanced.init.currentData()
        path = self._active_model if key == "active" else self.advanced.init_file.text().strip() if key == "file" \
            else None
        self._start = model_scale(path)
        if self._start is not None:
            self.advanced.set_scale(self._start.input_size, self._start.mm_per_pixel)

    def _on_measured(self, _step) -> None:
        if self.plan_choice.currentData() == "finishing":
            self._apply_plan()  # its rounds follow the measured step
        else:
            self._describe()

    # -- what the dialog says --------------------------------------------------------------------
    def _describe(self) -> None:
        plan = self.plan()
        counts = self._counts.per_case
        held_out = held_out_count(len(counts), plan.value("val_fraction"))
        self.summary.setText(f"Train on <b>{sum(counts.values())} slice(s)</b> from <b>{len(counts)} case(s)</b>: "
                             "every slice you edited or marked reviewed (also work not saved yet).")
        self.checking_label.setText(checking_text(held_out))
        step = self.timer.result_for(plan, self)
        duration = None if step is None else duration_text(plan_seconds(step, plan, self._counts))
        self.device_label.setText(device_text(plan, step, duration))
        self.schedule_label.setText(schedule_text(plan))
        self.alternative_label.setText(self._alternative(plan, step))
        needs_file = self.advanced.init.currentData() == "file"
        self.train_button.setEnabled(bool(counts) and (not needs_file or Path(
            self.advanced.init_file.text().strip()).is_file()))

    def _alternative(self, plan: RetrainPlan, step) -> str:
        other = "finishing" if self.plan_choice.currentData() == "paper" else "paper"
        settings = {**plan.settings, **self._plan_settings(other)}
        seconds = None if step is None else plan_seconds(step, RetrainPlan(settings), self._counts)
        return alternative_text(other, settings, None if seconds is None else duration_text(seconds))

    def _fit(self) -> None:
        column = self.body.widget()
        margins = self.layout().contentsMargins()
        wanted = QSize(max(column.sizeHint().width(), self.buttons.sizeHint().width()),
                       column.sizeHint().height() + self.buttons.sizeHint().height() + self.layout().spacing())
        wanted += QSize(margins.left() + margins.right() + self.body.verticalScrollBar().sizeHint().width() + 4,
                        margins.top() + margins.bottom() + 4)
        fit_dialog(self, wanted)
