"""The retrain dialog: what one click will do (cases, slices, device, time, schedule), with an Advanced section.

The CPU time estimate is a rough figure until the run starts (the live panel then shows the trainer's own
ETA): seconds per training slice and epoch at 512 px measured on the team's 2-core CPU (forward about 1 s,
backward about twice that), scaled with the number of pixels (docs/decisions/072).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from gui.ai.training_process import RetrainPlan

CPU_SECONDS_PER_SLICE_512 = 3.0

INIT_CHOICES = (("active", "Fine-tune the active model"), ("imagenet", "ImageNet weights (torchvision)"),
                ("file", "Weights file…"), ("none", "From scratch (random weights)"))


def describe_device() -> tuple[str, bool]:
    """("NVIDIA … , 24.0 GB", True) with a CUDA GPU, else ("CPU", False)."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return f"GPU: {props.name}, {props.total_memory / 2 ** 30:.1f} GB", True
    return "CPU", False


def estimate_cpu_hours(train_slices: int, epochs: int, input_size: int) -> float:
    return train_slices * epochs * CPU_SECONDS_PER_SLICE_512 * (input_size / 512) ** 2 / 3600


class RetrainDialog(QDialog):
    """Shows the plan for `counts` (case id -> training slices); `plan()` is what the user accepted."""

    def __init__(self, counts: dict[str, int], active_model: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.setObjectName("retrainDialog")
        self._counts = counts
        self._active_model = active_model
        defaults = RetrainPlan()
        layout = QVBoxLayout(self)
        self.summary = QLabel(objectName="retrainSummary", wordWrap=True)
        self.device_label = QLabel(objectName="retrainDevice", wordWrap=True)
        self.schedule_label = QLabel(objectName="retrainSchedule", wordWrap=True)
        for label in (self.summary, self.device_label, self.schedule_label):
            layout.addWidget(label)
        self.advanced = QGroupBox("Advanced", checkable=True, checked=False, objectName="retrainAdvanced")
        form = QFormLayout(self.advanced)
        self.epochs = _spin(1, 1000, defaults.epochs)
        self.freeze_epochs = _spin(0, 1000, defaults.freeze_epochs)
        self.lr = _float(defaults.lr)
        self.lr_unfrozen = _float(defaults.lr_unfrozen)
        self.batch = _spin(1, 64, defaults.batch_size)
        self.size = _spin(64, 1024, defaults.input_size, step=32)
        self.val_fraction = QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.05, value=defaults.val_fraction)
        self.max_slices = _spin(0, 10000, 0)
        self.max_slices.setSpecialValueText("all")
        self.init = QComboBox(objectName="retrainInit")
        for key, text in INIT_CHOICES:
            if key != "active" or active_model is not None:
                self.init.addItem(text, key)
        self.init_file = QLineEdit(objectName="retrainInitFile", placeholderText="torchvision resnet50 .pth or .msmodel")
        browse = QPushButton("Browse…", clicked=self._browse)
        row = QHBoxLayout()
        row.addWidget(self.init_file, 1)
        row.addWidget(browse)
        self.cpu_only = QCheckBox("Use the CPU even when a GPU is present")
        for text, widget in (("Total epochs", self.epochs), ("Frozen-encoder epochs", self.freeze_epochs),
                             ("Learning rate (frozen)", self.lr), ("Learning rate (unfrozen)", self.lr_unfrozen),
                             ("Batch size", self.batch), ("Input size (px)", self.size),
                             ("Validation share of cases", self.val_fraction), ("Max slices per case", self.max_slices),
                             ("Start from", self.init)):
            form.addRow(text, widget)
        form.addRow("Weights file", row)
        form.addRow(self.cpu_only)
        layout.addWidget(self.advanced)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for widget in (self.epochs, self.freeze_epochs, self.batch, self.size, self.val_fraction, self.max_slices):
            widget.valueChanged.connect(self._describe)
        self.init.currentIndexChanged.connect(self._describe)
        self.init_file.textChanged.connect(self._describe)
        self.cpu_only.toggled.connect(self._describe)
        self._describe()

    def plan(self) -> RetrainPlan:
        key = self.init.currentData()
        init = {"active": str(self._active_model), "file": self.init_file.text().strip()}.get(key, key)
        return RetrainPlan(epochs=self.epochs.value(), freeze_epochs=min(self.freeze_epochs.value(), self.epochs.value()),
                           lr=self.lr.value(), lr_unfrozen=self.lr_unfrozen.value(), batch_size=self.batch.value(),
                           input_size=self.size.value(), init=init, val_fraction=self.val_fraction.value(),
                           max_slices_per_case=self.max_slices.value() or None,
                           device="cpu" if self.cpu_only.isChecked() else "auto")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Starting weights", "",
                                              "Weights (*.pth *.pt *.safetensors *.msmodel);;All files (*)")
        if path:
            self.init_file.setText(path)
            self.init.setCurrentIndex(self.init.findData("file"))

    def _describe(self) -> None:
        plan = self.plan()
        cases, slices = len(self._counts), sum(self._counts.values())
        per_case = [min(n, plan.max_slices_per_case or n) for n in self._counts.values()]
        train = round(sum(per_case) * (1 - plan.val_fraction)) if cases > 1 else sum(per_case)
        val_cases = 0 if cases < 2 or plan.val_fraction == 0 else max(1, round(cases * plan.val_fraction))
        self.summary.setText(f"Train on <b>{slices} slice(s)</b> from <b>{cases} case(s)</b> (every edited or "
                             f"reviewed, saved slice); {val_cases} case(s) held out for validation, split by case.")
        device, gpu = describe_device()
        if gpu and plan.device == "auto":
            self.device_label.setText(f"Device: {device}.")
        else:
            hours = estimate_cpu_hours(train, plan.epochs, plan.input_size)
            self.device_label.setText(f"Device: CPU — this will take about {_duration(hours)}.")
        self.schedule_label.setText(
            f"Schedule: {plan.freeze_epochs} epochs with the encoder frozen (lr {plan.lr:g}), then "
            f"{plan.epochs - plan.freeze_epochs} unfrozen (lr {plan.lr_unfrozen:g}), batch {plan.batch_size}, "
            f"{plan.input_size}×{plan.input_size} px; the best epoch by validation Dice is kept.")
        needs_file = self.init.currentData() == "file"
        self.train_button.setEnabled(slices > 0 and (not needs_file or Path(self.init_file.text().strip()).is_file()))


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} minutes"
    return f"{hours:.0f} hours" if hours >= 2 else f"{hours:.1f} hours"


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    return QSpinBox(minimum=low, maximum=high, value=value, singleStep=step)


def _float(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(decimals=7, minimum=1e-7, maximum=1.0, singleStep=value / 10, value=value)
    return box
