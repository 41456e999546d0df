"""How the app looks to a technician (issue 13): disabled controls look disabled (item 1), a reopened case's
window shows its preset by name (item 8), and image stacks read "intensity", not HU (item 9)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QMenu, QPushButton, QSlider,
                               QSpinBox, QTabBar, QToolButton, QWidget)

from gui.app import load_style_sheet
from tests.support.paths import SAMPLE_DIR
from tests.support.window import open_case


def _make(kind: str) -> QWidget:
    if kind == "button":
        return QPushButton("Start training")
    if kind == "tool button":
        button = QToolButton()
        button.setText("Polygon")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button
    if kind == "check box":
        box = QCheckBox("Advanced")
        box.setChecked(True)
        return box
    if kind == "spin box":
        return QSpinBox(value=12)
    if kind == "double spin box":
        return QDoubleSpinBox(value=0.5)
    if kind == "line edit":
        return QLineEdit("resnet50")
    if kind == "combo box":
        box = QComboBox()
        box.addItems(["Bone", "Dental"])
        return box
    if kind == "slider":
        return QSlider(Qt.Orientation.Horizontal, value=50)
    if kind == "tab":
        bar = QTabBar()
        bar.addTab("Tools")
        bar.addTab("Training")
        bar.setCurrentIndex(1)
        return bar
    raise ValueError(kind)


def _grab(qtbot, kind: str, enabled: bool) -> QImage:
    holder = QWidget()
    holder.setStyleSheet(load_style_sheet())
    widget = _make(kind)
    widget.setParent(holder)
    widget.resize(160, 32)
    widget.setEnabled(enabled)
    qtbot.addWidget(holder)
    holder.resize(170, 40)
    holder.show()
    return widget.grab().toImage()


@pytest.mark.parametrize("kind", ["button", "tool button", "check box", "spin box", "double spin box", "line edit",
                                  "combo box", "slider", "tab"])
def test_a_disabled_control_looks_different_from_an_enabled_one(qtbot, kind):
    enabled, disabled = _grab(qtbot, kind, True), _grab(qtbot, kind, False)
    assert enabled.size() == disabled.size()
    assert enabled != disabled, f"a disabled {kind} looks exactly like an enabled one"


def test_a_disabled_menu_item_is_dimmed(qtbot):
    menu = QMenu()
    menu.setStyleSheet(load_style_sheet())
    qtbot.addWidget(menu)
    on, off = menu.addAction("Save"), menu.addAction("Save")
    off.setEnabled(False)
    menu.show()
    image = menu.grab().toImage()
    top, bottom = (menu.actionGeometry(a) for a in (on, off))
    bright = lambda rect: max(QImage.pixelColor(image, x, y).lightness()  # noqa: E731
                              for x in range(rect.left(), rect.right(), 2) for y in range(rect.top(), rect.bottom()))
    assert bright(bottom) < bright(top) - 40  # the disabled item's text is clearly dimmer


def test_reopened_case_shows_its_preset_by_name(qtbot, make_window):
    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    window.actions.preset_bone.trigger()
    window.close()  # remembers the window (400 / 1800) in case.json
    again = make_window()
    open_case(qtbot, again, SAMPLE_DIR)
    panel = again.overlay_panel
    assert (panel.center.value(), panel.width.value()) == (400, 1800)
    assert panel.preset.currentText() == "Bone"
    again.overlay_panel.center.setValue(380)  # a hand-made window is Custom
    assert panel.preset.currentText() == "Custom"


def test_an_image_stack_reads_intensity_not_hu(qtbot, make_window, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(3):
        image = np.full((40, 50), 60 + 40 * n, np.uint8)
        ok, data = cv2.imencode(".png", image)
        data.tofile(str(folder / f"img{n}.png"))
    window = make_window()
    open_case(qtbot, window, folder)
    assert window.session.volume.units != "HU"
    window.controller.show_slice(1)
    for x in (3.5, 10.5):  # two moves: the pointer may already rest where the first one goes
        qtbot.mouseMove(window.view.viewport(), window.view.mapFromScene(QPointF(x, 10.5)))
    readout = window.status_labels["hu"].text()
    assert "intensity 100" in readout and "HU" not in readout
    for spin in (window.tool_panel.threshold, window.overlay_panel.center, window.overlay_panel.width):
        assert "HU" not in spin.suffix()


JARGON = ("MIoU", "Dice", "vs. active", "draft", "Empty slices", "lr ", "frozen encoder", "HU Threshold")


def _visible_words(root: QWidget) -> list[str]:
    """What a user reads without hovering: labels, buttons, group titles, table headers, menu and tab texts."""
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QTableWidget

    texts = [w.text() for w in root.findChildren(QLabel) + root.findChildren(QAbstractButton)]
    texts += [w.title() for w in root.findChildren(QGroupBox)]
    for table in root.findChildren(QTableWidget):
        texts += [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())
                  if table.horizontalHeaderItem(c) is not None]
    for bar in root.findChildren(QTabBar):
        texts += [bar.tabText(i) for i in range(bar.count())]
    return texts


def test_the_main_interface_speaks_plainly(qtbot, make_window):
    """Technical terms stay in tooltips (and in the Retrain dialog's Advanced part), not on the main screen."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    texts = _visible_words(window)
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    texts += [a.text() for menu in menus for a in menu.actions()]
    window.actions.export_3d.trigger()
    texts += _visible_words(window.exports.export_dialog)
    window.exports.export_dialog.reject()
    found = [(word, text) for text in texts for word in JARGON if word.lower() in text.lower()]
    assert not found, found
    headers = window.ai.models.panel.table
    assert "Dice" in headers.horizontalHeaderItem(5).toolTip()  # the term is still there for who wants it
