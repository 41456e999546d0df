"""Right panel, top: the editing tools and their options (brush size, HU threshold, island size). Its buttons are
the registry's tool-panel actions (gui/actions.py: `panel=(box, short label)`)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGridLayout, QGroupBox, QPushButton, QSizePolicy, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from gui.actions import panel_actions
from gui.tool_settings import (DEFAULT_MIN_ISLAND, DEFAULT_RADIUS, DEFAULT_THRESHOLD_HU, MAX_RADIUS, MIN_RADIUS,
                               ToolSettings)


class PanelButton(QToolButton):
    """A button for a QAction that keeps a short label for the narrow panel (the action's text is for menus)."""

    def __init__(self, action, text: str | None = None) -> None:
        super().__init__()
        self._text = text
        self.setDefaultAction(action)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._apply_text()

    def actionEvent(self, event) -> None:
        super().actionEvent(event)  # Qt copies the action's text back on every change
        self._apply_text()

    def _apply_text(self) -> None:
        if self._text:
            self.setText(self._text)


def button_grid(box: QGroupBox, actions, key: str) -> QGridLayout:
    """The buttons of the registry's actions for the panel box `key`, two a row."""
    grid = QGridLayout(box)
    for i, spec in enumerate(panel_actions(key)):
        grid.addWidget(PanelButton(actions[spec.key], spec.panel[1]), i // 2, i % 2)
    return grid


class ToolPanel(QWidget):
    """Shows the window's ToolSettings and changes them (`bind`)."""

    def __init__(self, actions, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("toolPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._tools_box(actions))
        layout.addWidget(self._options_box(actions))
        layout.addWidget(self._slice_box(actions))

    def _tools_box(self, actions) -> QGroupBox:
        box = QGroupBox("Tools")
        button_grid(box, actions, "tools")
        return box

    def _options_box(self, actions) -> QGroupBox:
        box = QGroupBox("Brush")
        form = QFormLayout(box)
        self.radius = QSpinBox(minimum=MIN_RADIUS, maximum=MAX_RADIUS, value=DEFAULT_RADIUS, suffix=" px")
        self.radius.setToolTip("Brush, eraser and seeded fill radius in image pixels ([ and ])")
        form.addRow("Radius", self.radius)
        self.threshold_check = QCheckBox("Only above")
        self.threshold_check.setToolTip(actions.hu_threshold.toolTip())
        self.threshold_check.toggled.connect(actions.hu_threshold.setChecked)
        actions.hu_threshold.toggled.connect(self.threshold_check.setChecked)
        self.threshold = QSpinBox(minimum=-1024, maximum=4000, value=DEFAULT_THRESHOLD_HU, suffix=" HU")
        form.addRow(self.threshold_check, self.threshold)
        self.bone_level = QPushButton(objectName="boneLevel", visible=False)
        self.bone_level.setToolTip("Set the threshold to this scan's bone level (between its soft tissue and bone)")
        self.bone_level.clicked.connect(lambda: self.threshold.setValue(int(self.bone_level.property("hu"))))
        form.addRow(self.bone_level)
        return box

    def set_bone_level(self, hu: float | None) -> None:
        """Offer the open scan's bone level (core.calibration) for "Only above"; None hides the offer."""
        self.bone_level.setVisible(hu is not None)
        if hu is not None:
            self.bone_level.setProperty("hu", round(hu))
            self.bone_level.setText(f"Scan's bone level: {round(hu)} HU")

    def _slice_box(self, actions) -> QGroupBox:
        box = QGroupBox("This slice")
        grid = button_grid(box, actions, "slice")
        self.min_island = QSpinBox(minimum=1, maximum=100000, value=DEFAULT_MIN_ISLAND, suffix=" px")
        self.min_island.setToolTip("Remove Small Islands deletes islands smaller than this")
        form = QFormLayout()
        form.addRow("Smallest island", self.min_island)
        grid.addLayout(form, grid.rowCount(), 0, 1, 2)
        return box

    def set_units(self, units: str) -> None:
        """Label the threshold in the open CT's units: HU, or plain intensity for an image stack."""
        hu = units == "HU"
        self.threshold.setSuffix(" HU" if hu else "")
        self.threshold.setToolTip("Paint only where the CT is brighter than this many Hounsfield units" if hu
                                  else "Paint only where the image is brighter than this intensity (not HU)")

    def bind(self, settings: ToolSettings) -> None:
        """Show `settings` and change them when the user does."""
        self.set_radius(settings.brush_radius)
        self.threshold.setValue(settings.threshold_hu)
        self.min_island.setValue(settings.min_island)
        self.radius.valueChanged.connect(settings.set_brush_radius)
        settings.brush_radius_changed.connect(self.set_radius)
        self.threshold.valueChanged.connect(lambda hu: setattr(settings, "threshold_hu", int(hu)))
        self.min_island.valueChanged.connect(lambda count: setattr(settings, "min_island", int(count)))

    def set_radius(self, radius: int) -> None:
        self.radius.blockSignals(True)
        self.radius.setValue(radius)
        self.radius.blockSignals(False)
