"""Right panel, bottom: overlay visibility, opacity, outline and colours; window/level presets.

The panel never changes the overlay's style itself: it asks for a new one (`style_changed`) and shows
whatever style the SliceController then has (`show_style`).
"""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from gui.overlay import OverlayStyle
from gui.panels.slice_list import REVIEWED_RGB


def swatch(rgb: tuple[int, int, int], text: str) -> QWidget:
    widget = QWidget()
    row = QHBoxLayout(widget)
    row.setContentsMargins(0, 0, 0, 0)
    chip = QLabel()
    chip.setFixedSize(14, 14)
    chip.setStyleSheet(f"background: {QColor(*rgb).name()}; border-radius: 3px;")
    row.addWidget(chip)
    row.addWidget(QLabel(text))
    row.addStretch(1)
    return widget


class OverlayPanel(QWidget):
    style_changed = Signal(object)  # the OverlayStyle the user asks for
    window_changed = Signal(float, float)  # centre, width
    preset_chosen = Signal(str)

    def __init__(self, actions, style: OverlayStyle, presets: dict, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("overlayPanel")
        self._style = style
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._overlay_box(actions))
        layout.addWidget(self._window_box(presets))

    def _overlay_box(self, actions) -> QGroupBox:
        box = QGroupBox("Overlay")
        form = QFormLayout(box)
        self.visible = QCheckBox("Show (O, hold Q to peek)")
        self.visible.setChecked(actions.toggle_overlay.isChecked())
        self.visible.toggled.connect(actions.toggle_overlay.setChecked)
        actions.toggle_overlay.toggled.connect(self.visible.setChecked)
        form.addRow(self.visible)
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=int(self._style.opacity * 100))
        self.opacity.setToolTip("Fill opacity of the mask (the outline stays opaque)")
        self.opacity.valueChanged.connect(self._on_opacity)
        form.addRow("Opacity", self.opacity)
        self.outline = QCheckBox("Outline")
        self.outline.setChecked(self._style.outline)
        self.outline.toggled.connect(self._on_outline)
        form.addRow(self.outline)
        form.addRow(swatch(self._style.edited_rgb, "Edited by you"))
        form.addRow(swatch(self._style.predicted_rgb, "Predicted by the model"))
        carried = swatch(self._style.carried_rgb, "Interpolated or propagated")
        carried.setToolTip("Made from your slices by N or Shift+PgUp/PgDn; not checked yet and not training "
                           "data until you edit it or mark it reviewed (R)")
        form.addRow(carried)
        reviewed = swatch(REVIEWED_RGB, "Reviewed (slice list)")
        reviewed.setToolTip("In the slice list: a slice you marked reviewed; a ring: the model found no mandible")
        form.addRow(reviewed)
        return box

    def _window_box(self, presets: dict) -> QGroupBox:
        box = QGroupBox("Window / level")
        form = QFormLayout(box)
        self.preset = QComboBox()
        self.preset.addItem("Custom", None)
        for key in presets:
            self.preset.addItem(key.capitalize(), key)
        self.preset.activated.connect(self._on_preset)
        form.addRow("Preset", self.preset)
        self.center = QSpinBox(minimum=-2000, maximum=5000, suffix=" HU")
        self.width = QSpinBox(minimum=1, maximum=8000, suffix=" HU")
        for spin in (self.center, self.width):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._on_window_spin)
        form.addRow("Level", self.center)
        form.addRow("Width", self.width)
        form.addRow(QLabel("Right-drag on the image adjusts it."))
        return box

    def show_window(self, center: float, width: float, preset: str | None) -> None:
        for spin, value in ((self.center, center), (self.width, width)):
            spin.blockSignals(True)
            spin.setValue(int(round(value)))
            spin.blockSignals(False)
        index = self.preset.findData(preset) if preset else 0
        self.preset.setCurrentIndex(max(index, 0))

    def set_units(self, units: str) -> None:
        """Level and width in the open CT's units: HU, or plain intensity for an image stack."""
        for spin in (self.center, self.width):
            spin.setSuffix(" HU" if units == "HU" else "")
        self.preset.setEnabled(units == "HU")  # the presets are Hounsfield windows
        self.preset.setToolTip("" if units == "HU" else "The presets are for CT in Hounsfield units; these "
                               "images have plain intensities")

    def show_style(self, style: OverlayStyle) -> None:
        """Show the style the overlay now has (the controller's)."""
        self._style = style
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(round(style.opacity * 100)))
        self.opacity.blockSignals(False)
        self.outline.blockSignals(True)
        self.outline.setChecked(style.outline)
        self.outline.blockSignals(False)

    def _on_opacity(self, value: int) -> None:
        self.style_changed.emit(dataclasses.replace(self._style, opacity=value / 100.0))

    def _on_outline(self, checked: bool) -> None:
        self.style_changed.emit(dataclasses.replace(self._style, outline=checked))

    def _on_preset(self, index: int) -> None:
        key = self.preset.itemData(index)
        if key:
            self.preset_chosen.emit(key)

    def _on_window_spin(self) -> None:
        self.window_changed.emit(float(self.center.value()), float(self.width.value()))
