"""Help at hand and measuring (issue 13): F1 lists every shortcut of the action table (item 14), About says
the version, the active model and the data folder (item 14), and the ruler reads millimetres from the CT's
spacing, refusing when it is unknown; the scale bar matches the zoom (item 15)."""
from __future__ import annotations

import cv2
import nibabel as nib
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from gui import help as help_module
from tests.support.window import drag, key, open_case


def test_f1_opens_a_sheet_of_every_shortcut(qtbot, make_window):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts work in the active window
    window.view.setFocus()
    key(qtbot, window, Qt.Key.Key_F1)
    sheet = window.help.sheet
    assert sheet is not None and sheet.isVisible()
    rows = sheet.texts()
    listed = {keys for _, keys in rows}
    with_shortcut = [(name, a) for name, a in window.actions.items() if a.shortcuts()]
    assert len(with_shortcut) > 30  # the AI parts' actions (Segment, Retrain…) are in the table too
    for name, action in with_shortcut:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        assert keys in listed, f"{name} ({keys}) is missing from the shortcut sheet"
    assert ("Keyboard Shortcuts", "F1") in rows and ("Peek under the overlay", "Hold Q") in rows
    table = sheet.table  # issue 18 J: the Action column was about 30 px wide
    metrics = table.fontMetrics()
    widest = max(metrics.horizontalAdvance(name) for name, _ in rows)
    assert table.columnWidth(0) >= widest, "every action's name is shown whole"
    assert table.columnWidth(1) >= 150 and sheet.width() <= window.screen().availableGeometry().width()
    help_menu = next(m for m in window.menuBar().actions() if m.text() == "&Help").menu()
    assert [a.text() for a in help_menu.actions()] == ["&Keyboard Shortcuts", "&About Mandible Studio"]


def test_about_shows_version_model_and_data_folder(qtbot, make_window, monkeypatch, workspace_dir):
    window = make_window()
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.actions.about.trigger()
    text = shown[-1]
    model = window.ai.models.versions.active()
    assert help_module.app_version() in text and str(workspace_dir) in text
    assert model is not None and model.label in text and f"{model.metrics['dice']:.3f}" in text


def _ct(tmp_path, spacing_mm: float):
    """A small NIfTI CT: a bright bar on dark tissue, pixels of `spacing_mm` (slices 2 mm apart)."""
    data = np.full((64, 64, 4), -100, np.int16)
    data[10:50, 30:34, :] = 1000
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(data, np.diag([spacing_mm, spacing_mm, 2.0, 1.0])), str(path))
    return path


def test_the_ruler_reads_10_mm_across_10_mm(qtbot, make_window, tmp_path):
    window = make_window()
    open_case(qtbot, window, _ct(tmp_path, 0.5))
    assert window.session.volume.spacing[1:] == (0.5, 0.5)
    window.actions.tool_ruler.trigger()
    with qtbot.waitSignal(window.controller.measured) as said:
        drag(qtbot, window, (10, 40), (30, 40))  # 20 pixels of 0.5 mm
    assert said.args == ["Distance: 10.0 mm"]
    ruler = window.controller.tools["ruler"]
    assert abs(ruler.length_mm - 10.0) < 0.05
    assert window.statusBar().currentMessage() == "Distance: 10.0 mm"
    assert not window.session.case.unsaved_indexes()  # measuring changes no mask
    drag(qtbot, window, (10, 10), (10, 50))  # 40 rows of 0.5 mm
    assert abs(ruler.length_mm - 20.0) < 0.05


def test_the_scale_bar_follows_the_zoom(qtbot, make_window, tmp_path):
    window = make_window()
    open_case(qtbot, window, _ct(tmp_path, 0.5))
    view = window.view
    mm, pixels = view.current_scale_bar()
    assert pixels == pytest.approx(mm / 0.5 * view.zoom())  # the bar is as long on screen as `mm` on the CT
    window.actions.zoom_in.trigger()
    mm_in, pixels_in = view.current_scale_bar()
    assert pixels_in == pytest.approx(mm_in / 0.5 * view.zoom()) and mm_in <= mm


def test_the_ruler_refuses_without_a_known_spacing(qtbot, make_window, tmp_path):
    folder = tmp_path / "stack"
    folder.mkdir()
    for n in range(2):
        cv2.imencode(".png", np.full((40, 40), 80, np.uint8))[1].tofile(str(folder / f"{n}.png"))
    window = make_window()
    open_case(qtbot, window, folder)
    assert not window.session.volume.spacing_known
    window.actions.tool_ruler.trigger()
    with qtbot.waitSignal(window.controller.measured) as said:
        drag(qtbot, window, (5, 5), (30, 5))
    assert "cannot be measured in mm" in said.args[0]
    assert window.controller.tools["ruler"].length_mm is None
    assert window.view.current_scale_bar() is None  # no scale bar either
