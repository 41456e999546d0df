"""The Retrain dialog's Advanced section: every setting of the plan, in plain words (technical terms in tooltips).

The form holds values only; the dialog (gui/ai/retrain_dialog.py) decides which plan fills them.
"""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget)

from core.model.config import DEFAULT_FIELD_OF_VIEW_MM, MM_PER_PIXEL_RANGE
from core.training.config import TrainingConfig
from core.training.retrain import MAX_SLICES

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
          ("mm_per_pixel", "Millimetres per pixel", "The resolution slices are resampled to (mm per pixel); "
                                                    "continuing a model keeps its own"),
          ("val_fraction", "Share of cases kept aside for checking",
           "Validation fraction: whole cases held out to choose the best epoch and compare models"),
          ("max_slices", "Most slices per case", "A cap on the training slices taken from each case"))
SCHEDULE_FIELDS = ("epochs", "freeze_epochs", "max_slices")  # what a plan choice sets


class AdvancedForm(QGroupBox):
    changed = Signal()  # any value, by the user or by a plan
    schedule_edited = Signal()  # the user changed a field that a plan choice sets
    start_changed = Signal()  # the starting weights changed

    def __init__(self, has_active_model: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="retrainAdvanced")
        form = QFormLayout(self)
        default = TrainingConfig.default
        self.epochs = _spin(1, 1000, default("epochs"))
        self.freeze_epochs = _spin(0, 1000, default("freeze_epochs"))
        self.lr = _float(default("lr"))
        self.lr_unfrozen = _float(default("lr_unfrozen"))
        self.batch = _spin(1, 64, default("batch_size"))
        self.size = _spin(64, 1024, default("input_size"), step=32)
        self.mm_per_pixel = QDoubleSpinBox(decimals=3, minimum=MM_PER_PIXEL_RANGE[0], maximum=MM_PER_PIXEL_RANGE[1],
                                           singleStep=0.25, value=DEFAULT_FIELD_OF_VIEW_MM / default("input_size"))
        self.val_fraction = QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.05, value=default("val_fraction"))
        self.max_slices = _spin(0, 10000, 0)
        self.max_slices.setSpecialValueText("all")
        for key, label, tip in FIELDS:
            widget = getattr(self, key)
            widget.setToolTip(tip)
            widget.valueChanged.connect(self.changed)
            if key in SCHEDULE_FIELDS:
                widget.valueChanged.connect(self.schedule_edited)
            form.addRow(_tipped(label, tip), widget)
        self.size.valueChanged.connect(self._keep_field_of_view)
        self._field_of_view = DEFAULT_FIELD_OF_VIEW_MM
        self.mm_per_pixel.valueChanged.connect(self._remember_field_of_view)
        self._build_start(form, has_active_model)

    def _build_start(self, form: QFormLayout, has_active_model: bool) -> None:
        self.init = QComboBox(objectName="retrainInit")
        for key, text, tip in INIT_CHOICES:
            if key != "active" or has_active_model:
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
        for signal in (self.init.currentIndexChanged, self.init_file.textChanged):
            signal.connect(self.start_changed)
            signal.connect(self.changed)
        self.cpu_only.toggled.connect(self.changed)

    def set_schedule(self, settings: dict) -> None:
        """A plan's rounds, warm-up rounds and cap on slices, without counting as the user's edit."""
        values = {"epochs": settings["epochs"], "freeze_epochs": settings["freeze_epochs"],
                  "max_slices": settings.get(MAX_SLICES) or 0}
        for key, value in values.items():
            with QSignalBlocker(getattr(self, key)):
                getattr(self, key).setValue(value)
        self.changed.emit()

    def schedule(self) -> dict:
        return {"epochs": self.epochs.value(), "freeze_epochs": min(self.freeze_epochs.value(), self.epochs.value()),
                MAX_SLICES: self.max_slices.value() or None}

    def set_scale(self, input_size: int, mm_per_pixel: float) -> None:
        """A model's own input size and resolution (continuing it)."""
        with QSignalBlocker(self.size):
            self.size.setValue(input_size)
        self.mm_per_pixel.setValue(mm_per_pixel)

    def _keep_field_of_view(self, size: int) -> None:
        with QSignalBlocker(self.mm_per_pixel):
            self.mm_per_pixel.setValue(self._field_of_view / size)

    def _remember_field_of_view(self, mm: float) -> None:
        self._field_of_view = mm * self.size.value()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Starting weights", "",
                                              "Weights (*.pth *.pt *.safetensors *.msmodel);;All files (*)")
        if path:
            self.init_file.setText(path)
            self.init.setCurrentIndex(self.init.findData("file"))


def _tipped(text: str, tip: str) -> QLabel:
    label = QLabel(text)
    label.setToolTip(tip)
    return label


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    return QSpinBox(minimum=low, maximum=high, value=value, singleStep=step)


def _float(value: float) -> QDoubleSpinBox:
    return QDoubleSpinBox(decimals=7, minimum=1e-7, maximum=1.0, singleStep=value / 10, value=value)
