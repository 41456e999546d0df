"""Polygon editing on the view with real mouse events: insert a vertex on an edge, delete a vertex
(right-click or Delete), move and delete a whole polygon; fill holes, remove small islands, copy the
previous/next slice. Each gesture is one undo step and the mask follows the polygons exactly."""
from __future__ import annotations

import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest
from PySide6.QtCore import Qt

from tests.support.window import click, current_mask, drag, key

SHAPE = (128, 128)
SQUARE = [(20, 20), (60, 20), (60, 60), (20, 60)]


def raster(points) -> np.ndarray:
    image = PIL.Image.new("L", (SHAPE[1], SHAPE[0]), 0)
    PIL.ImageDraw.Draw(image).polygon([tuple(map(float, p)) for p in points], outline=1, fill=1)
    return np.array(image, dtype=bool)


@pytest.fixture
def square_window(qtbot, sample_window):
    window = sample_window
    key(qtbot, window, Qt.Key.Key_P)
    for point in SQUARE:
        click(qtbot, window, *point)
    key(qtbot, window, Qt.Key.Key_Return)  # Enter closes the polygon too
    assert np.array_equal(current_mask(window).astype(bool), raster(SQUARE))
    key(qtbot, window, Qt.Key.Key_V)
    return window


def undo(qtbot, square_window):
    key(qtbot, square_window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_insert_vertex_by_dragging_an_edge(qtbot, square_window):
    drag(qtbot, square_window, (40, 20), (40, 6))  # grab the top edge in its middle and pull it up
    assert np.array_equal(current_mask(square_window).astype(bool), raster([(20, 20), (40, 6), (60, 20), (60, 60), (20, 60)]))
    undo(qtbot, square_window)
    assert np.array_equal(current_mask(square_window).astype(bool), raster(SQUARE))


def test_delete_vertex_with_right_click_and_delete_key(qtbot, square_window):
    click(qtbot, square_window, 60, 60, button=Qt.MouseButton.RightButton)
    triangle = raster([(20, 20), (60, 20), (20, 60)])
    assert np.array_equal(current_mask(square_window).astype(bool), triangle)
    assert square_window.controller.window.width == 1800  # right-click on a vertex is not window/level
    qtbot.mouseMove(square_window.view.viewport(), square_window.view.mapFromScene(20.5, 20.5))
    key(qtbot, square_window, Qt.Key.Key_Delete)  # deleting from a triangle removes it
    assert not current_mask(square_window).any()
    undo(qtbot, square_window)
    assert np.array_equal(current_mask(square_window).astype(bool), triangle)


def test_move_and_delete_whole_polygon(qtbot, square_window):
    drag(qtbot, square_window, (40, 40), (70, 50))  # inside: moves the polygon by (30, 10)
    moved = raster([(x + 30, y + 10) for x, y in SQUARE])
    assert np.array_equal(current_mask(square_window).astype(bool), moved)
    click(qtbot, square_window, 80, 50)  # select it
    qtbot.mouseMove(square_window.view.viewport(), square_window.view.mapFromScene(80.5, 50.5))
    key(qtbot, square_window, Qt.Key.Key_Delete)
    assert not current_mask(square_window).any()
    undo(qtbot, square_window)
    undo(qtbot, square_window)
    assert np.array_equal(current_mask(square_window).astype(bool), raster(SQUARE))


def test_fill_holes_remove_islands_copy_slices(qtbot, square_window):
    key(qtbot, square_window, Qt.Key.Key_E)
    click(qtbot, square_window, 40, 40)  # a hole in the square
    key(qtbot, square_window, Qt.Key.Key_B)
    click(qtbot, square_window, 100, 100)  # a small island (radius 6: 113 pixels)
    with_hole = current_mask(square_window)
    assert with_hole[40, 40] == 0 and with_hole[100, 100] == 1
    key(qtbot, square_window, Qt.Key.Key_H)
    assert current_mask(square_window)[40, 40] == 1
    square_window.tool_panel.min_island.setValue(200)
    key(qtbot, square_window, Qt.Key.Key_I)
    expected = raster(SQUARE)
    assert np.array_equal(current_mask(square_window).astype(bool), expected)

    key(qtbot, square_window, Qt.Key.Key_D)
    assert square_window.session.current == 1 and not current_mask(square_window).any()
    key(qtbot, square_window, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)  # copy from previous
    assert np.array_equal(current_mask(square_window).astype(bool), expected)
    key(qtbot, square_window, Qt.Key.Key_D)
    key(qtbot, square_window, Qt.Key.Key_A)
    key(qtbot, square_window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)  # clear slice 2
    assert not current_mask(square_window).any()
    key(qtbot, square_window, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)  # copy from next (empty slice 3)
    assert not current_mask(square_window).any()
    undo(qtbot, square_window)
    assert np.array_equal(current_mask(square_window).astype(bool), expected)
