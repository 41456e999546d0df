"""Linked orthogonal views: crosshair both ways, physical aspect, one window/level, overlays, layouts."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.annotation.slice_annotation import SliceAnnotation
from core.volume import Volume
from core.windowing import WINDOW_PRESETS, Window, hu_to_display
from gui.overlay import EDITED_RGB, PREDICTED_RGB
from gui.views.crosshair import Crosshair
from gui.views.layout import ViewLayout
from gui.views.planes import AnnotationLabels, ArrayLabels, Plane

SHAPE = (20, 48, 64)  # slices 3 mm apart, 1 mm pixels


def _volume() -> Volume:
    rng = np.random.default_rng(0)
    hu = rng.integers(-200, 1200, SHAPE).astype(np.int16)
    return Volume(hu=hu, spacing=(3.0, 1.0, 1.0), name="synthetic")


def _labels() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[5:15, 10:20, 30:50] = 1
    return labels


@pytest.fixture
def views(qtbot):
    volume = _volume()
    crosshair = Crosshair(volume.shape, (10, 24, 32))
    layout = ViewLayout(volume, ArrayLabels(_labels()), crosshair, WINDOW_PRESETS["bone"])
    qtbot.addWidget(layout)
    layout.resize(900, 700)
    layout.show()
    qtbot.waitExposed(layout)
    return layout


def _click(qtbot, view, point) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.scene_point(point)))


def _pixmap_array(item) -> np.ndarray:
    """RGBA [rows, cols, 4] of a view's image item (a pixmap) or overlay item (a QImage), as drawn."""
    image = item.image if hasattr(item, "image") else item.pixmap().toImage()
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, :4 * image.width()].reshape(
        image.height(), image.width(), 4).copy()


def test_the_crosshair_clamps_and_tells_listeners_only_of_real_moves():
    crosshair = Crosshair((4, 5, 6))
    heard = []
    crosshair.add_listener(heard.append)
    assert crosshair.move_to(9, -3, 2) and crosshair.point == (3, 0, 2)
    assert not crosshair.move_to(3, 0, 2)
    assert crosshair.move_axis(0, 1) and heard == [(3, 0, 2), (1, 0, 2)]


def test_a_click_in_the_coronal_view_moves_the_axial_and_sagittal_views(qtbot, views):
    coronal, axial, sagittal = (views.planes[p] for p in (Plane.CORONAL, Plane.AXIAL, Plane.SAGITTAL))
    _click(qtbot, coronal, (4, 24, 50))
    assert views.crosshair.point == (4, 24, 50)
    assert axial.index == 4 and sagittal.index == 50 and coronal.index == 24
    # The axial view's vertical line now stands on column 50, its horizontal one on row 24.
    centre = axial.scene_point((4, 24, 50))
    assert axial.lines[1].line().x1() == pytest.approx(centre.x())
    assert axial.lines[0].line().y1() == pytest.approx(centre.y())
    np.testing.assert_array_equal(_pixmap_array(axial.image_item)[..., 0],
                                  hu_to_display(views.volume.hu[4], views.window))


def test_the_wheel_in_the_sagittal_view_steps_through_columns(qtbot, views):
    sagittal = views.planes[Plane.SAGITTAL]
    viewport = sagittal.viewport()
    pos = QPointF(viewport.rect().center())
    event = QWheelEvent(pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    assert views.crosshair.point == (10, 24, 33)
    assert views.planes[Plane.CORONAL].lines[1].line().x1() == pytest.approx(33.5)


def test_a_crosshair_moved_elsewhere_moves_every_view(views):
    views.crosshair.move_to(7, 30, 12)
    assert [views.planes[p].index for p in Plane] == [7, 30, 12]


def test_slices_keep_their_physical_size(views):
    coronal = views.planes[Plane.CORONAL].image_rect()
    sagittal = views.planes[Plane.SAGITTAL].image_rect()
    axial = views.planes[Plane.AXIAL].image_rect()
    assert coronal.height() / coronal.width() == pytest.approx(20 * 3.0 / 64)
    assert sagittal.height() / sagittal.width() == pytest.approx(20 * 3.0 / 48)
    assert axial.height() / axial.width() == pytest.approx(48 / 64)


def test_one_window_for_all_planes_and_a_right_drag_changes_it_everywhere(qtbot, views):
    changed = []
    views.window_changed.connect(changed.append)
    views.set_window(Window(100.0, 500.0))
    for plane, view in views.planes.items():
        expected = hu_to_display(np.take(views.volume.hu, view.index, axis=plane.axis), Window(100.0, 500.0))
        np.testing.assert_array_equal(_pixmap_array(view.image_item)[..., 0], expected)
    sagittal = views.planes[Plane.SAGITTAL].viewport()
    start = sagittal.rect().center()
    qtbot.mousePress(sagittal, Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(sagittal, start + QPoint(30, 0))
    qtbot.mouseRelease(sagittal, Qt.MouseButton.RightButton, pos=start + QPoint(30, 0))
    assert changed[-1].width > 500.0
    assert all(view.window == changed[-1] for view in views.planes.values())


def test_the_coronal_overlay_shows_the_label_and_follows_an_edit(views):
    coronal = views.planes[Plane.CORONAL]
    views.crosshair.move_to(10, 15, 40)
    overlay = _pixmap_array(coronal.overlay_item)
    assert overlay[10, 40, 3] > 0 and overlay[2, 40, 3] == 0 and overlay[10, 10, 3] == 0
    views.labels.labels[2, 15, 40] = 1
    views.labels_changed({2})
    assert _pixmap_array(coronal.overlay_item)[2, 40, 3] > 0


def test_the_open_cases_annotations_show_predicted_and_edited_colours(qtbot):
    volume = _volume()
    annotations = {k: SliceAnnotation(48, 64) for k in range(20)}
    annotations[6].set_predicted(_labels()[6])
    annotations[7].set_mask(_labels()[7])
    views = ViewLayout(volume, AnnotationLabels(annotations, volume.shape), Crosshair(volume.shape, (6, 15, 40)),
                       WINDOW_PRESETS["bone"])
    qtbot.addWidget(views)
    overlay = _pixmap_array(views.planes[Plane.CORONAL].overlay_item)
    assert tuple(overlay[6, 40, :3]) == PREDICTED_RGB and tuple(overlay[7, 40, :3]) == EDITED_RGB


def test_layout_switches_between_one_large_view_and_two_by_two(views):
    views.set_layout("single", large=views.planes[Plane.CORONAL])
    assert [v.isVisible() for v in views.views] == [False, True, False, False]
    views.set_layout("2x2")
    assert all(v.isVisible() for v in views.views)
    with pytest.raises(ValueError):
        views.set_layout("3x3")


def test_without_opengl_the_3d_view_says_why(views):
    if views.surface.available:
        pytest.skip("this session has OpenGL; the message is only shown without it")
    assert views.surface.isVisible()
    assert "OpenGL" in views.surface.message.text() and views.surface.message.isVisible()
