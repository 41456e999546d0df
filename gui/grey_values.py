"""Grey Values: how the open scan's grey values become Hounsfield units, said in plain words, and the user's
two-point correction (click air and soft tissue on the slice, or type their grey values; docs/decisions/200).

The status bar shows the calibration in a few words (its tooltip says it all); View -> Grey Values… (Ctrl+K)
opens the dialog. The correction itself is core's (core/workspace/case_calibration.py): the open CT is
recalibrated in place and case.json records it, so the network, refinement, windows, the HU readout and the
brush all follow it, now and when the case is opened again.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from core.calibration import BY_USER, FROM_SCAN, HOUNSFIELD, GreyCalibration
from core.errors import MandibleStudioError
from gui.tools.base import Tool, snapped

PICK_HALF_SIZE = 3  # a click reads the median of a 7 x 7 patch: one noisy CBCT pixel is not the tissue's level
VALUE_LIMIT = 1e7


def short_text(calibration: GreyCalibration | None) -> str:
    """A few words for the status bar."""
    if calibration is None or calibration.in_hounsfield:
        return "Grey values: HU"
    return {FROM_SCAN: "Grey values: calibrated from the scan", BY_USER: "Grey values: calibrated by you"}.get(
        calibration.source, "Grey values: image slices")


def picked_grey_value(volume, index: int, row: int, col: int) -> float:
    """The stored grey value around a pixel: the median of a small patch, taken back through the calibration."""
    plane = volume.hu[index]
    patch = plane[max(0, row - PICK_HALF_SIZE):row + PICK_HALF_SIZE + 1,
                  max(0, col - PICK_HALF_SIZE):col + PICK_HALF_SIZE + 1]
    hu = float(np.median(patch))
    return volume.calibration.grey_map.stored_of(hu) if volume.calibration is not None else hu


class PickTool(Tool):
    """One left click on the slice reads a pixel and hands it on; then the tool that was active comes back."""

    name = "pick"

    def __init__(self, editor, picked) -> None:
        super().__init__(editor)
        self._picked = picked

    def press(self, pos, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            col, row = snapped(pos)
            self._picked(row, col)


class GreyValuesDialog(QDialog):
    """The calibration in plain words, the grey values of air and soft tissue, Pick buttons and Apply."""

    pick_requested = Signal(str)  # "air" or "soft"
    apply_requested = Signal(float, float)  # air, soft tissue

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Grey Values")
        self.setObjectName("greyValuesDialog")
        layout = QVBoxLayout(self)
        self.description = QLabel(wordWrap=True, objectName="greyValuesDescription")
        layout.addWidget(self.description)
        form = QFormLayout()
        self.values = {}
        for key, label, hint in (("air", "Air", "outside the head, or in the mouth"),
                                 ("soft", "Soft tissue", "in a muscle or the tongue")):
            spin = QDoubleSpinBox(minimum=-VALUE_LIMIT, maximum=VALUE_LIMIT, decimals=0, objectName=f"{key}Value")
            spin.setToolTip(f"The grey value of {label.lower()} in the scan's file ({hint})")
            pick = QPushButton(f"Pick {label}", objectName=f"pick_{key}")
            pick.setToolTip(f"Then click {hint} on the slice")
            pick.clicked.connect(lambda _=False, k=key: self.pick_requested.emit(k))
            row = QHBoxLayout()
            row.addWidget(spin, 1)
            row.addWidget(pick)
            form.addRow(label, row)
            self.values[key] = spin
        layout.addLayout(form)
        self.message = QLabel(wordWrap=True, objectName="greyValuesMessage")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.estimate = buttons.addButton("Scan's Estimate", QDialogButtonBox.ButtonRole.ResetRole)
        self.estimate.setToolTip("Fill in the air and soft-tissue levels found in the scan's histogram")
        self.apply = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply.clicked.connect(
            lambda: self.apply_requested.emit(self.values["air"].value(), self.values["soft"].value()))
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self._landmarks: tuple[float, float] | None = None
        self.estimate.clicked.connect(self._fill_estimate)

    def show_calibration(self, calibration: GreyCalibration | None) -> None:
        self.description.setText(calibration.describe() if calibration is not None
                                 else "Grey values are used as stored.")
        editable = calibration is not None and calibration.source in (HOUNSFIELD, FROM_SCAN, BY_USER)
        for widget in (*self.values.values(), self.apply, *self.findChildren(QPushButton, "pick_air"),
                       *self.findChildren(QPushButton, "pick_soft")):
            widget.setEnabled(editable)
        if editable:
            air, soft = calibration.air_and_soft_tissue()
            self.set_value("air", air)
            self.set_value("soft", soft)
        marks = calibration.landmarks if calibration is not None else None
        self._landmarks = (marks.air, marks.soft_tissue) if marks is not None else None
        self.estimate.setEnabled(editable and self._landmarks is not None)

    def set_value(self, key: str, value: float) -> None:
        self.values[key].setValue(round(value))

    def say(self, text: str, problem: bool = False) -> None:
        self.message.setStyleSheet("color: #d9534f;" if problem else "")
        self.message.setText(text)

    def _fill_estimate(self) -> None:
        if self._landmarks is not None:
            self.set_value("air", self._landmarks[0])
            self.set_value("soft", self._landmarks[1])


class GreyValues(QObject):
    """Binds the dialog and the status-bar words to the main window's open case; View -> Grey Values… (declared in
    gui/actions.py, enabled with a case) calls `show_dialog`."""

    corrected = Signal(object)  # the new GreyCalibration

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.label = QLabel(objectName="status_grey")
        window.statusBar().addPermanentWidget(self.label)
        self.dialog: GreyValuesDialog | None = None
        self._picking: str | None = None
        window.case_opened.connect(lambda _case_id: self.refresh())
        self.refresh()

    @property
    def volume(self):
        session = self.window.session
        return session.volume if session is not None else None

    def refresh(self) -> None:
        """Show the open case's calibration: status bar, brush panel, dialog."""
        calibration = self.volume.calibration if self.volume is not None else None
        self.label.setText(short_text(calibration) if self.volume is not None else "")
        self.label.setToolTip(calibration.describe() if calibration is not None else "")
        self.window.tool_panel.set_bone_level(calibration.bone_level_hu if calibration is not None
                                              and self.volume.units == "HU" else None)
        if self.dialog is not None:
            self.dialog.show_calibration(calibration)

    def show_dialog(self) -> None:
        if self.volume is None:
            return
        if self.dialog is None:
            self.dialog = GreyValuesDialog(self.window)
            self.dialog.pick_requested.connect(self.start_pick)
            self.dialog.apply_requested.connect(self.apply)
        self.dialog.show_calibration(self.volume.calibration)
        self.dialog.say("")
        self.dialog.show()
        self.dialog.raise_()

    def start_pick(self, key: str) -> None:
        """The next left click on the slice reads the grey value of `key` ("air" or "soft")."""
        self._picking = key
        controller = self.window.controller
        controller.view.set_tool(PickTool(controller.editor, self._picked))
        self.dialog.say("Click " + ("air, outside the head or in the mouth" if key == "air"
                                    else "soft tissue, in a muscle or the tongue") + ", on the slice.")

    def _picked(self, row: int, col: int) -> None:
        volume, key = self.volume, self._picking
        self._picking = None
        controller = self.window.controller
        controller.use_tool(controller.tool_name)
        if volume is None or key is None or not (0 <= row < volume.shape[1] and 0 <= col < volume.shape[2]):
            return
        value = picked_grey_value(volume, controller.current, row, col)
        self.dialog.set_value(key, value)
        self.dialog.say(f"{'Air' if key == 'air' else 'Soft tissue'}: grey value {value:.0f} at slice "
                        f"{controller.current + 1}, row {row + 1}, column {col + 1}. Apply to use it.")

    def apply(self, air: float, soft_tissue: float) -> None:
        session = self.window.session
        if session is None:
            return
        try:
            calibration = session.correct_calibration(air, soft_tissue)
        except MandibleStudioError as exc:  # soft tissue not above air; case.json not writable
            self.dialog.say(str(exc), problem=True)
            self.refresh_images()
            return
        self.refresh_images()
        self.refresh()
        self.dialog.say("Applied: the slice, the windows, the HU readout and the brush now use it; "
                        "segment again to let the network see it.")
        self.corrected.emit(calibration)

    def refresh_images(self) -> None:
        self.window.controller.render()
        if self.window.case_views is not None:
            self.window.case_views.refresh_images()
