"""The 3-D click tool (C) in the main window: a click in the coronal view brings back a missed piece on the slices
it spans, Shift+click removes a false island in 3-D, Ctrl+Z takes back exactly one click, and slices a person
edited stay as they were unless the user allows clicks to change them. Real mouse events on the views."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.annotation.slice_status import SliceStatus
from core.io.nifti import volume_affine_ras
from core.volume import Volume
from gui.views.planes import Plane
from tests.support.window import key, open_case, view_point

SPACING = (1.0, 0.8, 0.8)
MISSED = slice(0, 30)  # the network missed the upper half of the ramus
ISLAND = (slice(40, 48), slice(5, 10), slice(26, 32))  # and took a piece of soft tissue


def jaw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(HU, the ramus, a separate block of other bone): soft tissue with two bars of bone 12 rows apart."""
    rng = np.random.default_rng(7)
    hu = rng.normal(40.0, 15.0, (60, 64, 64)).astype(np.float32)
    ramus = np.zeros(hu.shape, bool)
    ramus[:, 20:28, 24:34] = True
    other = np.zeros(hu.shape, bool)
    other[:, 40:50, 20:40] = True
    hu[ramus | other] += 1200.0
    return np.round(hu).astype(np.int16), ramus, other


@pytest.fixture
def jaw_window(qtbot, make_window, tmp_path):
    """The main window on the jaw CT (NIfTI), the 'network's' masks on every slice, the click tool on, 2x2."""
    hu, ramus, other = jaw()
    path = tmp_path / "jaw.nii.gz"
    nib.save(nib.Nifti1Image(hu.transpose(2, 1, 0), volume_affine_ras(Volume(hu, SPACING, "jaw"))), str(path))
    window = make_window()
    open_case(qtbot, window, path)
    assert np.array_equal(window.session.volume.hu, hu), "the jaw opened in the canonical orientation"
    predicted = ramus.copy()
    predicted[MISSED] = False
    predicted[ISLAND] = True
    for index, mask in enumerate(predicted):
        window.session.take_prediction(index, mask.astype(np.uint8))
    key(qtbot, window, Qt.Key.Key_L)
    key(qtbot, window, Qt.Key.Key_C)
    assert window.actions["tool_click"].isChecked()
    return window, ramus, other


def masks(window) -> np.ndarray:
    return np.stack([window.session.annotation(k).mask > 0 for k in range(window.session.num_slices)])


def click_plane(qtbot, window, plane: Plane, voxel, shift: bool = False) -> None:
    """A real mouse click on `voxel` (slice, row, col) in the view of `plane`, which is first moved through it."""
    window.case_views.crosshair.move_to(*voxel)
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    if plane is Plane.AXIAL:
        view, pos = window.view, view_point(window, voxel[2], voxel[1])
    else:
        view = window.case_views.layout.planes[plane]
        pos = view.mapFromScene(view.scene_point(voxel))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifiers, pos=pos)


def test_a_click_in_the_coronal_view_brings_back_a_missed_piece_on_the_slices_it_spans(qtbot, jaw_window):
    window, ramus, other = jaw_window
    before = masks(window)
    coronal = window.case_views.layout.planes[Plane.CORONAL]
    window.case_views.crosshair.move_to(22, 23, 28)
    overlay = coronal.overlay_item.image.copy()
    click_plane(qtbot, window, Plane.CORONAL, (22, 23, 28))
    after = masks(window)
    assert coronal.overlay_item.image != overlay, "the coronal view shows the correction at once"
    near = slice(14, 30)  # within 8 mm of the click
    assert after[near][ramus[near]].all(), "the missed ramus near the click is back on every slice it spans"
    assert not (after & ~before & other).any(), "nothing of the other bone came with it"
    written = [k for k in range(60) if not np.array_equal(after[k], before[k])]
    assert written and all(window.session.status(k) is SliceStatus.EDITED for k in written)
    assert all("edited" in window.slice_list.item(k).text() for k in written), "the slice list follows"
    assert "Click: added on slices" in window.statusBar().currentMessage()


def test_shift_click_removes_a_false_island_in_3d(qtbot, jaw_window):
    window, ramus, _ = jaw_window
    click_plane(qtbot, window, Plane.SAGITTAL, (44, 7, 29), shift=True)
    after = masks(window)
    assert not after[ISLAND].any(), "the island is gone from every slice it was on"
    assert (after & ramus).sum() == (ramus.copy()[30:]).sum(), "the jaw the network found stays"


def test_ctrl_z_takes_back_exactly_one_click(qtbot, jaw_window):
    window, _, _ = jaw_window
    before = masks(window)
    click_plane(qtbot, window, Plane.AXIAL, (44, 7, 29), shift=True)
    after_first = masks(window)
    assert not after_first[ISLAND].any()
    click_plane(qtbot, window, Plane.CORONAL, (22, 23, 28))
    assert not np.array_equal(masks(window), after_first)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(masks(window), after_first), "Ctrl+Z undid the second click, and only it"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(masks(window), before), "and again the first, from whatever slice is on screen"


def test_edited_slices_keep_their_content_unless_clicks_may_change_them(qtbot, jaw_window):
    window, ramus, _ = jaw_window
    own = np.zeros(ramus.shape[1:], np.uint8)
    own[22:26, 26:30] = 1  # a person's own (smaller) mask on slice 20
    window.session.edit("Paint", lambda annotation: annotation.set_mask(own), index=20)
    assert window.session.status(20) is SliceStatus.EDITED
    click_plane(qtbot, window, Plane.CORONAL, (22, 23, 28))
    assert np.array_equal(window.session.annotation(20).mask, own), "the edited slice is untouched"
    assert masks(window)[21][ramus[21]].all(), "its neighbours were corrected"
    assert "1 edited or reviewed slice(s) kept" in window.statusBar().currentMessage()

    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    window.actions["clicks_change_human"].setChecked(True)
    click_plane(qtbot, window, Plane.CORONAL, (22, 23, 28))
    assert window.session.annotation(20).mask[ramus[20]].all(), "allowed, the click writes it too"


def test_the_click_tool_is_on_the_f1_sheet(qtbot, jaw_window):
    window, _, _ = jaw_window
    rows = window.help.show_shortcuts().texts()
    assert ("3-D Click Correction", "C") in rows
    assert ("3-D click: remove a wrong piece in 3-D", "Shift+click (any view)") in rows
