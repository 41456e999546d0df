"""Interpolation (N), propagation (Shift+PgUp/PgDn) and seeded fill (G) in the main window, on the bundled
sample: what they write, what they never touch, and that each is one undo step."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from scipy import ndimage

from core.annotation.slice_status import SliceStatus
from core.workspace.case_store import CaseStore
from tests.support.window import click, current_mask, key

TIMEOUT_MS = 120_000  # only stops a hang


def _ring(shape, centre, outer, inner) -> np.ndarray:
    rows, cols = np.ogrid[:shape[0], :shape[1]]
    distance = np.hypot(rows - centre[0], cols - centre[1])
    return ((distance <= outer) & (distance > inner)).astype(np.uint8)


def _edit(window, index, mask) -> None:
    """A person's edit of slice `index` (it becomes EDITED)."""
    assert window.session.case.annotation(index).set_mask(mask) is not None


def test_interpolation_fills_between_two_edited_slices_keeps_the_hole_and_undoes_in_one_step(qtbot, sample_window):
    window = sample_window
    case = window.session.case
    shape = case.volume.shape[1:]
    _edit(window, 40, _ring(shape, (60, 60), 20, 7))
    _edit(window, 50, _ring(shape, (66, 64), 16, 6))
    case.apply_prediction(43, np.zeros(shape, np.uint8))  # the model found no mandible there
    predicted = _ring(shape, (10, 10), 5, 0)
    case.apply_prediction(47, predicted)  # a prediction: kept unless "Replace Predicted Slices" is on
    window.controller.show_slice(44)
    key(qtbot, window, Qt.Key.Key_N)

    assert case.status(47) is SliceStatus.PREDICTED and np.array_equal(case.annotation(47).mask, predicted)
    between = [i for i in range(41, 50) if i != 47]
    for index in between:
        mask = case.annotation(index).mask
        assert mask.sum() > 300, f"slice {index + 1} was filled"
        assert mask[62, 61] == 0, f"the hole goes through slice {index + 1}"
        assert case.status(index) is SliceStatus.INTERPOLATED
    assert case.training_slices() == [40, 50], "interpolated slices are not training data"
    assert not case.annotation(39).mask.any() and not case.annotation(51).mask.any()
    assert "interpolated" in window.slice_list.item(45).text()

    window.autosave_now()  # the draft and case.json keep the status
    reloaded = CaseStore(case.store.case_dir).load(case.volume.shape)
    assert reloaded.statuses[45] is SliceStatus.INTERPOLATED
    assert reloaded.annotations[45].source is SliceStatus.INTERPOLATED

    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    for index in between:
        assert not case.annotation(index).mask.any()
        assert case.status(index) is (SliceStatus.PREDICTED if index == 43 else SliceStatus.EMPTY)
    assert case.annotation(40).mask.any() and case.annotation(50).mask.any(), "the edited ends stay"
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert all(case.status(i) is SliceStatus.INTERPOLATED for i in between)


def test_undo_takes_a_later_edit_back_first_and_then_the_whole_interpolation(qtbot, sample_window):
    window = sample_window
    case = window.session.case
    shape = case.volume.shape[1:]
    _edit(window, 40, _ring(shape, (60, 60), 20, 0))
    _edit(window, 44, _ring(shape, (60, 60), 18, 0))
    window.controller.show_slice(42)
    key(qtbot, window, Qt.Key.Key_N)
    assert case.status(41) is SliceStatus.INTERPOLATED and case.status(43) is SliceStatus.INTERPOLATED
    interpolated = case.annotation(43).mask.copy()
    window.controller.show_slice(43)
    key(qtbot, window, Qt.Key.Key_E)  # the eraser, a dab in the middle of slice 44
    click(qtbot, window, 60, 60)
    edited = current_mask(window)
    assert case.status(43) is SliceStatus.EDITED
    window.controller.show_slice(42)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the latest entry: the eraser dab
    assert np.array_equal(case.annotation(43).mask, interpolated) and case.status(43) is SliceStatus.INTERPOLATED
    assert case.annotation(41).mask.any()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # then the whole interpolation
    assert not case.annotation(41).mask.any() and not case.annotation(43).mask.any()
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(case.annotation(43).mask, edited), "a later edit comes back exactly"


def _propagate(qtbot, window, key_name) -> str:
    with qtbot.waitSignal(window.multi_slice.finished, timeout=TIMEOUT_MS) as done:
        key(qtbot, window, key_name, Qt.KeyboardModifier.ShiftModifier)
    return done.args[0]


def test_propagation_stops_where_the_bone_ends_and_undoes_in_one_step(qtbot, sample_window, sample_case):
    window = sample_window
    case = window.session.case
    _volume, labels = sample_case
    top = int(np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))[0])  # 45: first slice with mandible
    _edit(window, 53, labels[53])
    window.controller.show_slice(53)
    why = _propagate(qtbot, window, Qt.Key.Key_PageUp)

    assert f"bone ends at slice {top}" in why  # the slice number a user sees: index top - 1
    proposed = [i for i in range(case.num_slices) if case.status(i) is SliceStatus.PROPAGATED]
    assert proposed == list(range(top, 53))
    carried = np.stack([case.annotation(i).mask for i in proposed])
    assert (carried & labels[top:53]).sum() > 0.8 * carried.sum(), "it follows the mandible"
    assert not case.annotation(top - 1).mask.any(), "nothing above the end of the bone"
    assert window.session.current == top, "the view followed the propagation"

    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not any(case.annotation(i).mask.any() for i in proposed)
    assert case.annotation(53).mask.any()


def test_propagation_never_touches_a_reviewed_slice_nor_a_prediction_unless_allowed(qtbot, sample_window, sample_case):
    window = sample_window
    case = window.session.case
    _volume, labels = sample_case
    _edit(window, 53, labels[53])
    case.apply_prediction(48, labels[48])
    case.toggle_reviewed(48)  # reviewed: a person's verdict
    case.apply_prediction(51, labels[51] * 0 + labels[52])  # a prediction in the way
    reviewed = case.annotation(48).mask.copy()
    window.controller.show_slice(53)

    why = _propagate(qtbot, window, Qt.Key.Key_PageUp)
    assert "slice 52 is kept" in why and case.status(52) is SliceStatus.PROPAGATED
    assert case.status(51) is SliceStatus.PREDICTED

    window.actions["replace_predicted"].setChecked(True)
    window.controller.show_slice(53)
    why = _propagate(qtbot, window, Qt.Key.Key_PageUp)
    assert "slice 49 is kept" in why
    assert [case.status(i) for i in (49, 50, 51, 52)] == [SliceStatus.PROPAGATED] * 4
    assert case.status(48) is SliceStatus.REVIEWED and np.array_equal(case.annotation(48).mask, reviewed)


def test_esc_stops_a_propagation_and_keeps_what_it_showed(qtbot, sample_window, sample_case):
    window = sample_window
    case = window.session.case
    _volume, labels = sample_case
    _edit(window, 64, labels[64])
    window.controller.show_slice(64)
    with qtbot.waitSignal(window.multi_slice.finished, timeout=TIMEOUT_MS) as done:
        key(qtbot, window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
        assert window.actions["stop_propagation"].isEnabled()
        key(qtbot, window, Qt.Key.Key_Escape)
    assert done.args[0] == "stopped by you"
    shown = [i for i in range(case.num_slices) if case.status(i) is SliceStatus.PROPAGATED]
    assert shown == list(range(65, 65 + len(shown))), "what was shown stays, in one run from the start"
    assert not window.actions["stop_propagation"].isEnabled()


def test_seeded_fill_adds_the_connected_bone_and_undoes(qtbot, sample_window, sample_case):
    window = sample_window
    volume, labels = sample_case
    index = 60
    window.controller.show_slice(index)
    hu = volume.hu[index]
    rows, cols = np.nonzero(labels[index] & (hu >= 400))
    row, col = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    key(qtbot, window, Qt.Key.Key_G)
    assert window.actions["tool_fill"].isChecked()
    click(qtbot, window, col, row)

    added = current_mask(window) > 0
    assert added[row, col] and added.sum() > 20
    _parts, count = ndimage.label(added, structure=np.ones((3, 3)))
    assert count == 1, "one connected region"
    radius = window.tool_settings.brush_radius
    ys, xs = np.nonzero(added)
    assert np.hypot(ys - row, xs - col).max() <= radius + 0.5, "within the circle"
    assert window.session.status(index) is SliceStatus.EDITED

    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     pos=window.view.mapFromScene(col + 0.5, row + 0.5))
    assert not current_mask(window).any(), "Shift+click removes the region"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(current_mask(window) > 0, added)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not current_mask(window).any(), "each click is one undo step"


def test_seeded_fill_shows_as_the_active_tool_and_says_why_a_click_did_nothing(qtbot, sample_window):
    """Issue 18 L: seeded fill (G) showed no active tool, and a click below the threshold did nothing, silently."""
    window = sample_window
    window.controller.show_slice(60)
    key(qtbot, window, Qt.Key.Key_G)
    button = next(b for b in window.tool_panel.findChildren(QToolButton) if b.text() == "Seeded Fill")
    assert button.isChecked()
    click(qtbot, window, 2, 2)  # air, far below the bone threshold
    assert not current_mask(window).any()
    assert "below the threshold of 250 HU" in window.statusBar().currentMessage()
