"""The linked views in the main window: L switches one view / 2x2, one crosshair (the current slice is its
slice), one window/level, edits reach the coronal view; without OpenGL the 3-D place says why."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gui.views.planes import Plane
from tests.support.window import key, view_point, wheel


def _two_by_two(qtbot, window):
    key(qtbot, window, Qt.Key.Key_L)
    views = window.case_views.layout
    assert views is not None and window.case_views.mode == "2x2"
    return views


def _click_plane(qtbot, view, point) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.scene_point(point)))


def test_the_layout_switches_and_a_click_in_one_view_moves_the_others(qtbot, sample_window):
    window = sample_window
    assert window.case_views.mode == "single" and window.case_views.layout is None, "one large view by default"
    views = _two_by_two(qtbot, window)
    coronal, sagittal = views.planes[Plane.CORONAL], views.planes[Plane.SAGITTAL]
    assert all(v.isVisible() for v in (window.view, coronal, sagittal, views.surface))

    _click_plane(qtbot, coronal, (70, coronal.index, 40))  # slice 70, column 40
    assert window.session.current == 70 and window.slice_list.currentRow() == 70
    assert sagittal.index == 40 and window.case_views.crosshair.point[0] == 70

    wheel(window, 2)  # the axial view's own navigation moves the crosshair too
    assert window.session.current == 72 and coronal.scene_point(window.case_views.crosshair.point).y() > 0
    assert window.case_views.crosshair.point[0] == 72

    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     pos=view_point(window, 30, 90))  # Ctrl+click in the axial view: row 90, column 30
    assert coronal.index == 90 and sagittal.index == 30 and window.session.current == 72

    key(qtbot, window, Qt.Key.Key_L)
    assert window.case_views.mode == "single" and window.view.isVisible() and not coronal.isVisible()


def test_one_window_level_everywhere(qtbot, sample_window):
    window = sample_window
    views = _two_by_two(qtbot, window)
    sagittal = views.planes[Plane.SAGITTAL]
    before = window.controller.window
    viewport = sagittal.viewport()
    start = viewport.rect().center()
    qtbot.mousePress(viewport, Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(viewport, start + type(start)(40, 30))
    qtbot.mouseRelease(viewport, Qt.MouseButton.RightButton, pos=start + type(start)(40, 30))
    after = window.controller.window
    assert after != before, "a right-drag in the sagittal view changed the window"
    assert all(view.window == after for view in views.planes.values())
    assert window.status_labels["window"].text() == f"W {after.width:.0f} / L {after.center:.0f}"
    key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # bone preset from the axial side
    assert all(view.window == window.controller.window for view in views.planes.values())


def test_an_edit_reaches_the_coronal_view_and_the_3d_place_says_why_offscreen(qtbot, sample_window):
    window = sample_window
    views = _two_by_two(qtbot, window)
    coronal = views.planes[Plane.CORONAL]
    row = coronal.index
    window.controller.show_slice(60)
    before = coronal.overlay_item.image.copy()
    mask = np.zeros(window.session.volume.shape[1:], np.uint8)
    mask[row - 3:row + 3, 20:50] = 1
    window.session.annotation().set_mask(mask)
    assert coronal.overlay_item.image != before, "the coronal overlay shows the edit on its row"
    assert not views.surface.available and "No 3-D view" in views.surface.message.text(), \
        "offscreen there is no OpenGL, and the 3-D place says why"


def test_another_case_keeps_the_layout_and_its_own_crosshair(qtbot, sample_window, tmp_path):
    import PIL.Image

    from tests.support.window import open_case

    window = sample_window
    _two_by_two(qtbot, window)
    window.controller.show_slice(90)
    folder = tmp_path / "small_ct"
    folder.mkdir()
    for n in range(5):
        PIL.Image.fromarray(np.full((32, 40), 40 * n, np.uint8)).save(folder / f"img{n:02d}.png")
    open_case(qtbot, window, folder)
    views = window.case_views
    assert views.mode == "2x2" and views.layout.volume.shape == (5, 32, 40)
    assert views.crosshair.point[0] == window.session.current < 5
    _click_plane(qtbot, views.layout.planes[Plane.CORONAL], (3, views.layout.planes[Plane.CORONAL].index, 20))
    assert window.session.current == 3 and views.layout.planes[Plane.SAGITTAL].index == 20
