"""The live 3-D view: mesh built off the GUI thread, debounced; picking; rendering where OpenGL exists."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from scipy import ndimage

from core.volume import Volume
from core.windowing import WINDOW_PRESETS
from gui.views import surface_mesh
from gui.views.crosshair import Crosshair
from gui.views.layout import ViewLayout
from gui.views.planes import ArrayLabels
from gui.views.surface_mesh import SurfaceBuilder, SurfaceMesh, pick, surface_of, to_index
from gui.views.surface_view import opengl_problem, software_renderer

SHAPE = (24, 40, 40)
SPACING = (2.0, 1.0, 0.5)
BUILD_TIMEOUT_MS = 60_000


def _volume() -> Volume:
    return Volume(hu=np.zeros(SHAPE, np.int16), spacing=SPACING, name="box")


def _box_labels() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[6:18, 10:30, 8:32] = 1
    return labels


def test_a_ray_picks_the_nearest_face_it_meets():
    # Two unit squares facing the ray along +y, at y = 2 and y = 5.
    vertices = np.array([[0, 2, 0], [1, 2, 0], [0, 2, 1], [1, 2, 1],
                         [0, 5, 0], [1, 5, 0], [0, 5, 1], [1, 5, 1]], np.float32)
    faces = np.array([[0, 1, 2], [1, 3, 2], [4, 5, 6], [5, 7, 6]], np.int32)
    mesh = SurfaceMesh(vertices, faces)
    np.testing.assert_allclose(pick([0.3, -10, 0.4], [0, 1, 0], mesh), [0.3, 2, 0.4])
    np.testing.assert_allclose(pick([0.3, 10, 0.4], [0, -1, 0], mesh), [0.3, 5, 0.4])
    assert pick([3, -10, 3], [0, 1, 0], mesh) is None


def test_edits_are_debounced_into_one_build_in_a_worker_thread(qtbot, monkeypatch):
    labels = _box_labels()
    threads = []
    real = surface_mesh.surface_of

    def recording(labels_copy, volume, corner):
        threads.append(threading.get_ident())
        return real(labels_copy, volume, corner)

    monkeypatch.setattr(surface_mesh, "surface_of", recording)
    builder = SurfaceBuilder(_volume(), lambda: ((0, 0, 0), labels.copy()), debounce_ms=50)
    with qtbot.waitSignal(builder.mesh_ready, timeout=BUILD_TIMEOUT_MS) as ready:
        for _ in range(5):
            builder.labels_changed()  # a brush stroke's dabs
    qtbot.waitUntil(lambda: not builder.busy, timeout=BUILD_TIMEOUT_MS)
    assert builder.builds_started == 1 and threads and threads[0] != threading.get_ident()
    mesh = ready.args[0]
    low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    # x = column, y = row, z = -slice, in millimetres: the box's extent (within half a voxel).
    voxel = np.array([SPACING[2], SPACING[1], SPACING[0]])
    assert np.all(np.abs(low - [8 * 0.5, 10 * 1.0, -17 * 2.0]) <= voxel), low
    assert np.all(np.abs(high - [31 * 0.5, 29 * 1.0, -6 * 2.0]) <= voxel), high


def test_a_change_during_a_build_brings_exactly_one_more_build(qtbot):
    labels = _box_labels()
    builder = SurfaceBuilder(_volume(), lambda: ((0, 0, 0), labels.copy()), debounce_ms=1)
    meshes = []
    builder.mesh_ready.connect(meshes.append)
    builder.build_now()
    labels[:, :, 20:] = 0  # an edit while the first build runs
    builder.build_now()
    builder.build_now()
    qtbot.waitUntil(lambda: len(meshes) == 2 and not builder.busy, timeout=BUILD_TIMEOUT_MS)
    assert builder.builds_started == 2
    assert meshes[-1].vertices[:, 0].max() < 20 * 0.5  # the last mesh shows the edit


def test_an_empty_mask_clears_the_view_without_a_build(qtbot):
    builder = SurfaceBuilder(_volume(), lambda: ((0, 0, 0), np.zeros(SHAPE, np.uint8)), debounce_ms=1)
    with qtbot.waitSignal(builder.mesh_ready, timeout=5_000) as ready:
        builder.build_now()
    assert ready.args == [None] and builder.builds_started == 0


def test_display_points_map_back_to_their_voxel():
    point = surface_mesh.to_display(np.array([[5, 7, 9]]), SPACING)[0]
    assert to_index(point, SPACING) == (5, 7, 9)


def test_the_surface_renders_and_a_click_on_it_moves_the_crosshair(qtbot):
    if opengl_problem() is not None:
        pytest.skip(f"3-D rendering not tested: {opengl_problem()}")
    labels = _box_labels()
    crosshair = Crosshair(SHAPE, (0, 0, 0))
    views = ViewLayout(_volume(), ArrayLabels(labels), crosshair, WINDOW_PRESETS["bone"], allow_software_gl=True)
    qtbot.addWidget(views)
    views.resize(800, 800)
    views.show()
    qtbot.waitExposed(views)
    qtbot.waitUntil(lambda: views.surface.mesh is not None, timeout=BUILD_TIMEOUT_MS)
    image = views.surface.render_image()
    assert (np.abs(image[..., :3].astype(int) - [235, 224, 204]).sum(axis=2) < 120).sum() > 500
    centre = np.array([[12.0, 20.0, 20.0]])  # the box's centre voxel, seen from the front
    to_canvas = views.surface._surface.get_transform(map_from="visual", map_to="canvas")
    x, y = to_canvas.map(surface_mesh.to_display(centre, SPACING)[0])[:2] / to_canvas.map(
        surface_mesh.to_display(centre, SPACING)[0])[3]
    qtbot.mouseClick(views.surface.canvas.native, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    near_surface = ndimage.binary_dilation(labels, iterations=1) & ~ndimage.binary_erosion(labels, iterations=1)
    assert crosshair.point != (0, 0, 0) and near_surface[crosshair.point]


def test_on_software_opengl_the_3d_view_waits_for_the_user(qtbot):
    if opengl_problem() is not None or software_renderer() is None:
        pytest.skip(f"needs software OpenGL: {opengl_problem() or 'this OpenGL is hardware'}")
    views = ViewLayout(_volume(), ArrayLabels(_box_labels()), Crosshair(SHAPE), WINDOW_PRESETS["bone"])
    qtbot.addWidget(views)
    views.show()
    qtbot.waitExposed(views)
    assert not views.surface.available and "software" in views.surface.message.text()
    qtbot.mouseClick(views.surface.start_button, Qt.MouseButton.LeftButton)
    assert views.surface.available
    qtbot.waitUntil(lambda: views.surface.mesh is not None, timeout=BUILD_TIMEOUT_MS)


def test_the_surface_of_the_labels_box_is_the_surface_of_the_whole_volume():
    """The 3-D view builds from a copy of the labels' bounding box only (a fraction of the volume on a CBCT)."""
    from gui.views.planes import ArrayLabels, label_crop

    labels = np.zeros(SHAPE, np.uint8)
    labels[3:7, 4:9, 5:12] = 1
    labels[5, 10, 2] = 1
    corner, crop = label_crop(ArrayLabels(labels))
    assert corner == (3, 4, 2) and crop.shape == (4, 7, 10)
    whole, cropped = surface_of(labels, _volume()), surface_of(crop, _volume(), corner)
    np.testing.assert_allclose(cropped.vertices, whole.vertices)
    np.testing.assert_array_equal(cropped.faces, whole.faces)
    assert label_crop(ArrayLabels(np.zeros(SHAPE, np.uint8)))[1].size == 0
