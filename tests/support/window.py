"""Driving the main window as a user does: open a case, real mouse, key and wheel events at image
coordinates, what the current slice's mask is. (The window itself comes from tests/gui/conftest.py's fixtures.)"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow

OPEN_TIMEOUT_MS = 120_000
THREAD_END_TIMEOUT_MS = 120_000  # only stops a hang: a cancelled job ends at its next step
JOB_TIMEOUT_MS = 300_000  # only stops a hang


def open_case(qtbot, window: MainWindow, path, timeout: int = OPEN_TIMEOUT_MS, first_view: bool = False) -> None:
    """Open `path` and focus the view. A case new to the workspace opens, in the app, on anatomy (decision 173);
    here it is put on slice 1, where the tests written before that count from, unless `first_view` keeps the
    app's choice. A case opened before stays where the app put it (its last slice)."""
    cases_before = len(window.workspace.cases())
    with qtbot.waitSignal(window.case_opened, timeout=timeout):
        assert window.open_path(path)
    if not first_view and len(window.workspace.cases()) > cases_before:
        window.controller.show_slice(0)
    window.view.setFocus()


def view_point(window: MainWindow, x: float, y: float) -> QPoint:
    """The viewport point over the centre of image pixel (column x, row y)."""
    return window.view.mapFromScene(QPointF(x + 0.5, y + 0.5))


def click(qtbot, window, x, y, button=Qt.MouseButton.LeftButton):
    qtbot.mouseClick(window.view.viewport(), button, pos=view_point(window, x, y))


def drag(qtbot, window, start, end, button=Qt.MouseButton.LeftButton):
    viewport = window.view.viewport()
    qtbot.mouseMove(viewport, view_point(window, *start))
    qtbot.mousePress(viewport, button, pos=view_point(window, *start))
    qtbot.mouseMove(viewport, view_point(window, *end))
    qtbot.mouseRelease(viewport, button, pos=view_point(window, *end))


def key(qtbot, window, key_name: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.view, key_name, modifiers)


def wheel(window: MainWindow, notches: int, modifiers=Qt.KeyboardModifier.NoModifier, at: QPoint | None = None):
    """Turn the mouse wheel over the view; positive = toward the user (next slice)."""
    viewport = window.view.viewport()
    pos = QPointF(at if at is not None else viewport.rect().center())
    step = -120 if notches > 0 else 120
    for _ in range(abs(notches)):
        event = QWheelEvent(pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, step),
                            Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, event)


def current_mask(window: MainWindow) -> np.ndarray:
    session = window.session
    annotation = session.annotations.get(session.current)
    return np.zeros(session.volume.shape[1:], np.uint8) if annotation is None else annotation.mask.copy()


def segment_whole_case(qtbot, window) -> str:
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS) as done:
        window.ai.segmenting.actions["segment_case"].trigger()
    return done.args[0]


def overlay_pixels(window) -> np.ndarray:
    """The overlay as the view paints it: RGBA [rows, cols, 4]."""
    image = window.view.overlay_item.image
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).copy()


def overlay_pixel(window, x, y) -> tuple[int, int, int, int]:
    return tuple(int(v) for v in overlay_pixels(window)[y, x])
