"""Issue 4 acceptance: open the bundled sample, scroll, draw a polygon by clicking, drag a vertex, paint,
erase, undo x3, redo x2, save; the JSON passes labelme-check and holds the mask computed independently
from the same gestures."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest
from PySide6.QtCore import Qt

from core.io.slice_export import read_slice_mask
from core.annotation.slice_status import SliceStatus
from tests.support.paths import LABELME_CHECK, shared_path
from tests.support.window import click, current_mask, drag, key, wheel

SLICE = 61  # scrolled to from slice 1: a slice through the mandible of the sample
SQUARE = [(20, 20), (60, 20), (60, 60), (20, 60)]
DRAGGED = [(20, 20), (60, 20), (72, 76), (20, 60)]  # vertex (60, 60) dragged to (72, 76)
STROKE = ((90, 90), (104, 96))
ERASE_AT = (40, 40)
RADIUS = 6
SHAPE = (128, 128)


def labelme_polygon(points) -> np.ndarray:
    """Labelme's own rule: PIL polygon with fill=1 and outline=1 (labelme.utils.shape_to_mask)."""
    image = PIL.Image.new("L", (SHAPE[1], SHAPE[0]), 0)
    PIL.ImageDraw.Draw(image).polygon([tuple(map(float, p)) for p in points], outline=1, fill=1)
    return np.array(image, dtype=bool)


def capsule(start, end, radius) -> np.ndarray:
    """Pixels whose centres lie within `radius` of the segment start-end (a round brush dragged along it)."""
    rows, cols = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype(float)
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.clip(((cols - x0) * dx + (rows - y0) * dy) / length2, 0, 1) if length2 else 0.0
    return (cols - (x0 + t * dx)) ** 2 + (rows - (y0 + t * dy)) ** 2 <= radius ** 2


@pytest.mark.process
def test_draw_drag_paint_erase_undo_redo_save(qtbot, sample_window, tmp_path):
    window = sample_window
    assert window.session.current == 0 and window.session.volume.shape[1:] == SHAPE
    wheel(window, SLICE)
    assert window.session.current == SLICE
    assert window.slice_list.currentRow() == SLICE and window.slider.value() == SLICE + 1
    assert window.status_labels["slice"].text() == f"Slice {SLICE + 1} / 128"

    key(qtbot, window, Qt.Key.Key_P)
    for point in SQUARE + [SQUARE[0]]:  # clicking the first point again closes the polygon
        click(qtbot, window, *point)
    square = labelme_polygon(SQUARE)
    assert np.array_equal(current_mask(window).astype(bool), square)
    assert window.session.status(SLICE) is SliceStatus.EDITED and window.session.case.is_unsaved(SLICE)

    key(qtbot, window, Qt.Key.Key_V)
    drag(qtbot, window, (60, 60), DRAGGED[2])
    dragged = labelme_polygon(DRAGGED)
    assert np.array_equal(current_mask(window).astype(bool), dragged)

    key(qtbot, window, Qt.Key.Key_B)
    assert window.tool_settings.brush_radius == RADIUS
    drag(qtbot, window, *STROKE)
    painted = dragged | capsule(*STROKE, RADIUS)
    assert np.array_equal(current_mask(window).astype(bool), painted)

    key(qtbot, window, Qt.Key.Key_E)
    click(qtbot, window, *ERASE_AT)
    erased = painted & ~capsule(ERASE_AT, ERASE_AT, RADIUS)
    assert np.array_equal(current_mask(window).astype(bool), erased)

    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(current_mask(window).astype(bool), square)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(current_mask(window).astype(bool), painted)

    with qtbot.waitSignal(window.saved, timeout=30_000) as saved:
        key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[0] == [SLICE]
    assert not window.session.case.is_unsaved(SLICE)
    assert "unsaved" not in window.slice_list.item(SLICE).text()

    json_path = window.session.case.store.annotation_path(SLICE)
    mask, label_file = read_slice_mask(json_path, *SHAPE)
    assert np.array_equal(mask.astype(bool), painted)
    assert json_path.with_suffix(".png").exists()
    masks = tmp_path / "expected"
    masks.mkdir()
    PIL.Image.fromarray(painted.astype(np.uint8) * 255).save(masks / json_path.with_suffix(".png").name)
    shared_path("tools", "labelme-check")
    done = subprocess.run([str(LABELME_CHECK), "--masks", str(masks), str(json_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["failed"] == 0


def test_undo_is_case_wide_and_reviewed_key(qtbot, sample_window):
    window = sample_window
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 50, 50)
    first = current_mask(window)
    key(qtbot, window, Qt.Key.Key_D)  # Labelme's next-image key
    assert window.session.current == 1
    click(qtbot, window, 70, 70)
    key(qtbot, window, Qt.Key.Key_A)
    assert window.session.current == 0
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the latest action of the case
    assert window.session.annotations[1].mask[70, 70] == 0, "slice 2's dab, undone from slice 1"
    assert np.array_equal(current_mask(window), first)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not current_mask(window).any()
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(current_mask(window), first)
    key(qtbot, window, Qt.Key.Key_R)
    assert window.session.status(0) is SliceStatus.REVIEWED
    assert "reviewed" in window.slice_list.item(0).text()


def test_the_slice_number_on_screen_is_the_number_in_the_saved_file_name(sample_window, qtbot):
    """Issue 10: "slice N" is the same slice on screen, in the slice list, in messages and in the folder."""
    window = sample_window
    wheel(window, 63)  # the 64th slice
    assert window.status_labels["slice"].text() == "Slice 64 / 128"
    assert window.slice_list.currentItem().text().split()[0] == "64"
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 64, 64)
    messages = []
    with qtbot.waitSignal(window.saved, timeout=60_000):
        assert window.save_case()
        window.task.progress.connect(lambda step, total, message: messages.append(message))
    json_path = window.session.case.store.annotation_path(window.session.current)
    assert json_path.name == "0064.json" and json_path.with_suffix(".png").is_file()
    assert messages == ["saved slice 64"]
    provenance = json.loads(json_path.read_text())["mandibleStudio"]
    assert provenance["slice_index"] == 63  # the explicit, 0-based index of the CT slice
