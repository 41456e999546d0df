"""The slice view and overlay, driven with real wheel, mouse and key events: zoom at the cursor, pan,
zoom kept across slices, window/level by right-drag and presets, overlay toggle and peek, predicted vs
edited colours, HU under the cursor, brush size keys and the HU-threshold brush."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from core.windowing import WINDOW_PRESETS
from gui.overlay import EDITED_RGB, PREDICTED_RGB, overlay_rgba
from tests.support.window import click, current_mask, drag, key, overlay_pixel, overlay_pixels, view_point, wheel


@pytest.fixture
def window(sample_window):
    return sample_window


def test_ctrl_wheel_zooms_at_cursor_and_zoom_survives_slice_switch(qtbot, window):
    view = window.view
    fit_zoom = view.zoom()
    anchor = view_point(window, 30, 90)
    wheel(window, -2, Qt.KeyboardModifier.ControlModifier, at=anchor)
    assert view.zoom() == pytest.approx(fit_zoom * 1.25 ** 2)
    under = view.mapToScene(anchor)
    assert (under.x(), under.y()) == pytest.approx((30.5, 90.5), abs=1.0 / view.zoom() + 1e-6)
    before = view.mapToScene(view.viewport().rect().center())
    wheel(window, 3)
    assert window.session.current == 3
    assert view.zoom() == pytest.approx(fit_zoom * 1.25 ** 2)
    assert view.mapToScene(view.viewport().rect().center()) == before
    assert window.status_labels["zoom"].text() == f"Zoom {view.zoom() * 100:.0f}%"
    key(qtbot, window, Qt.Key.Key_F)
    assert view.zoom() == pytest.approx(fit_zoom)
    key(qtbot, window, Qt.Key.Key_1)
    assert view.zoom() == pytest.approx(1.0)


def test_middle_drag_and_space_drag_pan(qtbot, window):
    view = window.view
    viewport = view.viewport()
    start = viewport.rect().center()
    scene_before = view.mapToScene(start)
    end = start + type(start)(40, 25)
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=end)
    assert view.mapToScene(end).x() == pytest.approx(scene_before.x(), abs=1 / view.zoom())
    assert view.mapToScene(end).y() == pytest.approx(scene_before.y(), abs=1 / view.zoom())
    assert not current_mask(window).any()  # panning never paints

    scene_before = view.mapToScene(end)
    QApplication.sendEvent(view, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=end)
    qtbot.mouseMove(viewport, start)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start)
    QApplication.sendEvent(view, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    assert view.mapToScene(start).x() == pytest.approx(scene_before.x(), abs=1 / view.zoom())
    assert window.session.annotation().polygons == []  # Space+drag pans instead of adding polygon points
    assert window.view.tool.points == []


def test_right_drag_and_presets_change_window_level(qtbot, window):
    bone = WINDOW_PRESETS["bone"]
    assert window.controller.window == bone
    wheel(window, 60)  # a slice through the mandible
    grey_before = window.view.image_item.pixmap().toImage().pixelColor(64, 45).value()
    drag(qtbot, window, (64, 64), (90, 80), button=Qt.MouseButton.RightButton)
    changed = window.controller.window
    assert changed.width > bone.width and changed.center > bone.center
    assert window.overlay_panel.width.value() == round(changed.width)
    assert window.view.image_item.pixmap().toImage().pixelColor(64, 45).value() != grey_before
    key(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.window == WINDOW_PRESETS["soft"]
    assert window.overlay_panel.preset.currentData() == "soft"


def test_overlay_colours_toggle_and_peek(qtbot, window):
    session = window.session
    predicted = np.zeros(session.volume.shape[1:], np.uint8)
    predicted[40:60, 40:60] = 1
    session.annotation().set_predicted(predicted)  # as a model would deliver it
    assert overlay_pixel(window, 50, 50)[:3] == PREDICTED_RGB
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 62, 50)  # the human extends it to the right
    assert overlay_pixel(window, 65, 50)[:3] == EDITED_RGB
    assert overlay_pixel(window, 50, 50)[:3] == PREDICTED_RGB
    fill_alpha = overlay_pixel(window, 44, 44)[3]
    window.overlay_panel.opacity.setValue(80)
    assert overlay_pixel(window, 44, 44)[3] > fill_alpha
    assert overlay_pixel(window, 40, 50)[3] == 255  # the outline is opaque

    key(qtbot, window, Qt.Key.Key_O)
    assert not window.view.overlay_item.isVisible() and not window.overlay_panel.visible.isChecked()
    key(qtbot, window, Qt.Key.Key_O)
    assert window.view.overlay_item.isVisible()
    window.activateWindow()
    qtbot.keyPress(window.view, Qt.Key.Key_Q)
    assert not window.view.overlay_item.isVisible()
    qtbot.keyRelease(window.view, Qt.Key.Key_Q)
    assert window.view.overlay_item.isVisible()


def test_hu_under_cursor(qtbot, window):
    qtbot.mouseMove(window.view.viewport(), view_point(window, 70, 33))
    hu = int(window.session.volume.hu[0, 33, 70])
    assert window.status_labels["hu"].text() == f"(70, 33)  {hu} HU"
    rows, cols = window.session.volume.shape[1:]
    window.view.cursor_moved.emit(float(cols), 10.0)  # the image's right edge, which QRectF.contains() accepts
    assert window.status_labels["hu"].text() == ""
    window.view.cursor_moved.emit(10.0, float(rows))
    assert window.status_labels["hu"].text() == ""


def test_brush_size_keys_and_threshold_brush(qtbot, window):
    key(qtbot, window, Qt.Key.Key_B)
    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_BracketRight)
    key(qtbot, window, Qt.Key.Key_BracketLeft)
    assert window.tool_settings.brush_radius == 8 and window.tool_panel.radius.value() == 8
    circle = window.view.tool._circle
    qtbot.mouseMove(window.view.viewport(), view_point(window, 64, 64))
    assert circle.isVisible() and circle.rect().width() == pytest.approx(17)

    wheel(window, 60)
    window.tool_panel.threshold.setValue(300)
    key(qtbot, window, Qt.Key.Key_T)
    assert window.tool_panel.threshold_check.isChecked()
    hu = window.session.volume.hu[60]
    click(qtbot, window, 64, 45)
    painted = current_mask(window).astype(bool)
    rows, cols = np.mgrid[0:128, 0:128]
    disk = (cols - 64) ** 2 + (rows - 45) ** 2 <= 8 ** 2
    assert np.array_equal(painted, disk & (hu >= 300))
    assert 0 < painted.sum() < disk.sum()


def test_a_brush_dab_repaints_only_its_box_and_the_overlay_stays_exact(qtbot, window, monkeypatch):
    session = window.session
    predicted = np.zeros(session.volume.shape[1:], np.uint8)
    predicted[30:90, 30:90] = 1
    session.take_prediction(session.current, predicted)
    repainted = []
    item = window.view.overlay_item
    real_update = item.update
    monkeypatch.setattr(item, "update", lambda *rect: (repainted.append(rect), real_update(*rect)))
    key(qtbot, window, Qt.Key.Key_E)
    click(qtbot, window, 60, 60)  # an eraser dab of radius 6 inside the prediction
    (rect,), = repainted
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (53, 53, 15, 15)  # the dab's box + 1 pixel
    annotation = session.annotation()
    full = overlay_rgba(annotation.mask, ~annotation.edited, window.controller.style)
    assert np.array_equal(overlay_pixels(window), full)  # patching gives exactly what a full repaint gives


def test_the_overlay_panel_asks_the_controller_and_shows_what_it_has(window):
    style = window.controller.style
    window.overlay_panel.opacity.setValue(70)  # the view asks...
    assert window.controller.style.opacity == pytest.approx(0.7) and style.opacity == pytest.approx(0.4)
    window.controller.set_overlay_style(dataclasses.replace(window.controller.style, outline=False))  # ...and shows
    assert not window.overlay_panel.outline.isChecked() and window.overlay_panel.opacity.value() == 70
