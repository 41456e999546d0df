"""The retrain dialog: exactly which slices will train (and which cases cannot, and why), whether anything is
kept aside to check the model, the device and a time estimate from a training step measured here, the schedule
in plain words, and the settings in an Advanced section (technical terms in tooltips; docs/decisions/123).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from core.training.config import TrainingConfig
from core.training.data import held_out_count
from core.training.retrain import MAX_SLICES, RetrainPlan
from core.training.workspace_data import TrainingInventory
from gui.ai.retrain_texts import checking_text, device_text, duration_text, inventory_lines, schedule_text
from gui.ai.step_timer import step_timer

INIT_CHOICES = (("active", "The model in use (continue training it)", "Fine-tune the active model"),
                ("imagenet", "General image features (ImageNet)", "torchvision ResNet-50 ImageNet weights"),
                ("file", "A weights file…", "a torchvision resnet50 state dict (.pth) or a .msmodel file"),
                ("none", "Nothing (learn from scratch)", "random initialisation"))
# (attribute, label, tooltip with the technical term)
FIELDS = (("epochs", "Rounds over the data", "Epochs: each round goes once over every training slice"),
          ("freeze_epochs", "Warm-up rounds", "Frozen-encoder epochs: in these first rounds the encoder (the part "
                                              "that reads the image) is kept fixed and only the decoder learns"),
          ("lr", "Learning speed in warm-up", "Learning rate (lr) while the encoder is frozen"),
          ("lr_unfrozen", "Learning speed afterwards", "Learning rate (lr) once the whole network learns"),
          ("batch", "Slices per step", "Batch size"),
          ("size", "Image size (pixels)", "Network input size; a multiple of 32"),
          ("val_fraction", "Share of cases kept aside for checking",
           "Validation fraction: whole cases held out to choose the best epoch and compare models"),
          ("max_slices", "Most slices per case", "A cap on the training slices taken from each case"))


class RetrainDialog(QDialog):
    """Shows the plan for `inventory`; `plan()` is what the user accepted."""

    def __init__(self, inventory: TrainingInventory, active_model: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.setObjectName("retrainDialog")
        self._inventory = inventory
        self._active_model = active_model
        layout = QVBoxLayout(self)
        self.summary = QLabel(objectName="retrainSummary", wordWrap=True)
        self.slice_list = QListWidget(objectName="retrainSlices")
        self.slice_list.setMaximumHeight(120)
        self.checking_label = QLabel(objectName="retrainChecking", wordWrap=True)
        self.device_label = QLabel(objectName="retrainDevice", wordWrap=True)
        self.schedule_label = QLabel(objectName="retrainSchedule", wordWrap=True)
        for widget in (self.summary, self.slice_list, self.checking_label, self.device_label, self.schedule_label):
            layout.addWidget(widget)
        self.advanced_toggle = QToolButton(text="Advanced settings", checkable=True, objectName="retrainAdvancedToggle")
        self.advanced = QGroupBox(objectName="retrainAdvanced")
        self._build_advanced(QFormLayout(self.advanced))
        self.advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self.advanced.setVisible)
        self.advanced_toggle.toggled.connect(lambda _: self.adjustSize())
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.timer = step_timer()
        self.timer.measured.connect(self._on_measured)
        for line in inventory_lines(inventory):
            self.slice_list.addItem(line)
        self._describe()

    def _build_advanced(self, form: QFormLayout) -> None:
        default = TrainingConfig.default
        self.epochs = _spin(1, 1000, default("epochs"))
        self.freeze_epochs = _spin(0, 1000, default("freeze_epochs"))
        self.lr = _float(default("lr"))
        self.lr_unfrozen = _float(default("lr_unfrozen"))
        self.batch = _spin(1, 64, default("batch_size"))
        self.size = _spin(64, 1024, default("input_size"), step=32)
        self.val_fraction = QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.05, value=default("val_fraction"))
        self.max_slices = _spin(0, 10000, 0)
        self.max_slices.setSpecialValueText("all")
        for key, label, tip in FIELDS:
            widget = getattr(self, key)
            widget.setToolTip(tip)
            widget.valueChanged.connect(self._describe)
            form.addRow(_tipped(label, tip), widget)
        self.init = QComboBox(objectName="retrainInit")
        for key, text, tip in INIT_CHOICES:
            if key != "active" or self._active_model is not None:
                self.init.addItem(text, key)
                self.init.setItemData(self.init.count() - 1, tip, role=3)  # Qt.ToolTipRole
        self.init_file = QLineEdit(objectName="retrainInitFile", placeholderText="a .pth or .msmodel file")
        browse = QPushButton("Browse…", clicked=self._browse)
        row = QHBoxLayout()
        row.addWidget(self.init_file, 1)
        row.addWidget(browse)
        self.cpu_only = QCheckBox("Use the processor (CPU) even when a graphics card is present")
        form.addRow("Start from", self.init)
        form.addRow("Weights file", row)
        form.addRow(self.cpu_only)
        self.init.currentIndexChanged.connect(self._describe)
        self.init_file.textChanged.connect(self._describe)
        self.cpu_only.toggled.connect(self._describe)

    def plan(self) -> RetrainPlan:
        key = self.init.currentData()
        init = {"active": str(self._active_model), "file": self.init_file.text().strip()}.get(key, key)
        settings = {"epochs": self.epochs.value(), "freeze_epochs": min(self.freeze_epochs.value(), self.epochs.value()),
                    "lr": self.lr.value(), "lr_unfrozen": self.lr_unfrozen.value(), "batch_size": self.batch.value(),
                    "input_size": self.size.value(), "init": init, "val_fraction": self.val_fraction.value(),
                    "device": "cpu" if self.cpu_only.isChecked() else "auto"}
        if self.max_slices.value():
            settings[MAX_SLICES] = self.max_slices.value()
        return RetrainPlan(settings)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Starting weights", "",
                                              "Weights (*.pth *.pt *.safetensors *.msmodel);;All files (*)")
        if path:
            self.init_file.setText(path)
            self.init.setCurrentIndex(self.init.findData("file"))

    def _on_measured(self, _step) -> None:
        self._describe()

    def _describe(self) -> None:
        plan = self.plan()
        counts = {case: len(items) for case, items in self._inventory.by_case().items()}
        cap = plan.value(MAX_SLICES) if MAX_SLICES in plan.settings else None
        per_case = sorted((min(n, cap or n) for n in counts.values()), reverse=True)
        held_out = held_out_count(len(per_case), plan.value("val_fraction"))
        self.summary.setText(f"Train on <b>{sum(counts.values())} slice(s)</b> from <b>{len(counts)} case(s)</b>: "
                             "every slice you edited or marked reviewed (also work not saved yet).")
        self.checking_label.setText(checking_text(held_out))
        step = self.timer.result_for(plan, self)
        train = sum(per_case[held_out:])
        seconds = None if step is None else step.run_seconds(train, sum(per_case[:held_out]), plan.value("epochs"))
        self.device_label.setText(device_text(plan, step, None if seconds is None else duration_text(seconds)))
        self.schedule_label.setText(schedule_text(plan))
        needs_file = self.init.currentData() == "file"
        self.train_button.setEnabled(bool(counts) and (not needs_file or Path(self.init_file.text().strip()).is_file()))


def _tipped(text: str, tip: str) -> QLabel:
    label = QLabel(text)
    label.setToolTip(tip)
    return label


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    return QSpinBox(minimum=low, maximum=high, value=value, singleStep=step)


def _float(value: float) -> QDoubleSpinBox:
    return QDoubleSpinBox(decimals=7, minimum=1e-7, maximum=1.0, singleStep=value / 10, value=value)
