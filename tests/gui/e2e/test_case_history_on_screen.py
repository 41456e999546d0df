"""Issue 18 in the app, as a technician does it: one case-wide history (A, M), a whole-case run undone and redone
from another slice, interpolated and propagated work kept and named (F), a segmentation stopped by a case switch
that says so and resumes (E).

The network is replaced by `LabelSegmenter`, which "predicts" the sample's clinical label grown by a pixel, slice by
slice, with a whole-run revision at the end, as Segmenter.predict does; everything else is the app's own path
(Segment Whole Case, the job, the run that writes each slice, the case-wide history)."""
from __future__ import annotations


import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core.annotation.slice_status import SliceStatus
from core.workspace.review import SliceFilter
from gui.ai import segmenting
from gui.overlay import CARRIED_RGB
from tests.support.window import current_mask, key, open_case, overlay_pixel, segment_whole_case

S = SliceStatus
TIMEOUT_MS = 300_000  # only stops a hang


@pytest.fixture
def network_window(qtbot, make_window, sample_dir, network):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    return window


def snapshot(session) -> dict:
    """Everything a user could notice of every slice: mask, edited flags, status, confidence, unsaved."""
    return {i: (session.annotation(i).mask.tobytes(), session.annotation(i).edited.tobytes(), session.status(i),
                session.confidence(i), session.is_unsaved(i)) for i in range(session.num_slices)}


def masks(session, indexes) -> dict[int, bytes]:
    return {i: session.annotation(i).mask.tobytes() for i in indexes}


def ctrl(qtbot, network_window, key_name) -> None:
    key(qtbot, network_window, key_name, Qt.KeyboardModifier.ControlModifier)


def test_a_ctrl_z_on_another_slice_takes_back_the_whole_interpolation(qtbot, network_window):
    """Issue 18 A: Segment Whole Case; mark two slices reviewed; "Replace Predicted Slices" on; N between them; Ctrl+Z
    on another slice of the gap left it "empty •unsaved", Ctrl+Y brought the prediction back, not the interpolation,
    and slices were left pixels off the model's mask."""
    session = network_window.session
    segment_whole_case(qtbot, network_window)
    predicted = snapshot(session)
    for index in (55, 65):
        network_window.controller.show_slice(index)
        key(qtbot, network_window, Qt.Key.Key_R)
    network_window.actions["replace_predicted"].setChecked(True)
    network_window.controller.show_slice(60)
    key(qtbot, network_window, Qt.Key.Key_N)
    gap = range(56, 65)
    assert all(session.status(i) is S.INTERPOLATED for i in gap)
    interpolated = masks(session, gap)
    assert interpolated != masks(session, []) and any(interpolated[i] != predicted[i][0] for i in gap)

    network_window.controller.show_slice(58)
    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    for index in gap:
        assert (session.annotation(index).mask.tobytes(), session.status(index), session.confidence(index)) == \
            (predicted[index][0], S.PREDICTED, predicted[index][3]), f"slice {index + 1} is the model's again"
    assert network_window.slice_list.item(58).text().split()[1] == "predicted"
    assert session.status(55) is S.REVIEWED and session.status(65) is S.REVIEWED
    ctrl(qtbot, network_window, Qt.Key.Key_Y)
    assert masks(session, gap) == interpolated and all(session.status(i) is S.INTERPOLATED for i in gap)


def test_a_ctrl_z_on_another_slice_takes_back_the_whole_propagation(qtbot, network_window):
    """Issue 18 A, propagation: Shift+PgUp from a reviewed slice over the predictions, Ctrl+Z on a slice in the
    middle of what it wrote takes all of it back, bit for bit; the summary names the sure predictions it replaced
    and stays on screen."""
    session = network_window.session
    segment_whole_case(qtbot, network_window)
    predicted = snapshot(session)
    network_window.controller.show_slice(64)
    key(qtbot, network_window, Qt.Key.Key_R)
    network_window.actions["replace_predicted"].setChecked(True)
    with qtbot.waitSignal(network_window.multi_slice.finished, timeout=TIMEOUT_MS):
        key(qtbot, network_window, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ShiftModifier)
    written = [i for i in range(session.num_slices) if session.status(i) is S.PROPAGATED]
    assert len(written) >= 5 and written == list(range(written[0], 64))
    summary = network_window.statusBar().currentMessage()
    assert "prediction(s) the model was at least 90% sure about" in summary
    after = snapshot(session)

    network_window.controller.show_slice(written[len(written) // 2])
    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    assert snapshot(session) == {**predicted, 64: after[64]}, "every slice it wrote is the model's again, bit for bit"
    ctrl(qtbot, network_window, Qt.Key.Key_Y)
    assert snapshot(session) == after


def test_a_whole_case_run_is_undone_and_redone_from_another_slice_bit_for_bit(qtbot, network_window):
    session = network_window.session
    network_window.controller.show_slice(50)
    key(qtbot, network_window, Qt.Key.Key_B)  # a person's dab first: Segment Whole Case keeps it
    qtbot.mouseClick(network_window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=network_window.view.mapFromScene(40.5, 40.5))
    before = snapshot(session)
    assert "Segmented" in segment_whole_case(qtbot, network_window)
    after = snapshot(session)
    assert sum(1 for i in range(session.num_slices) if session.status(i) is S.PREDICTED) == session.num_slices - 1

    network_window.controller.show_slice(100)  # not a slice the run changed on screen
    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    assert snapshot(session) == before
    ctrl(qtbot, network_window, Qt.Key.Key_Y)
    assert snapshot(session) == after
    history = network_window.history.show()  # Edit ▸ History: the run is one entry
    assert history.texts() == ["Opened okbp_pt_224", "Paint — slice 51", "Segment whole case — slices 1, 2, 3, … (127)"]


def test_m_undoing_back_to_the_saved_mask_is_saved_again(qtbot, network_window):
    session = network_window.session
    network_window.controller.show_slice(60)
    key(qtbot, network_window, Qt.Key.Key_B)
    qtbot.mouseClick(network_window.view.viewport(), Qt.MouseButton.LeftButton, pos=network_window.view.mapFromScene(40.5, 40.5))
    with qtbot.waitSignal(network_window.saved, timeout=TIMEOUT_MS):
        assert network_window.save_case()
    saved = current_mask(network_window)
    qtbot.mouseClick(network_window.view.viewport(), Qt.MouseButton.LeftButton, pos=network_window.view.mapFromScene(80.5, 80.5))
    assert "unsaved" in network_window.slice_list.item(60).text()
    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    assert np.array_equal(current_mask(network_window), saved) and not session.is_unsaved(60)
    assert network_window.slice_list.item(60).text().split()[1:] == ["edited"], "edited, and saved: no •unsaved"


def test_f_segment_whole_case_asks_before_replacing_interpolated_work(qtbot, network_window, monkeypatch, sample_case):
    """Issue 18 F: Segment Whole Case overwrote interpolated and propagated slices without asking."""
    session = network_window.session
    _volume, labels = sample_case
    for index in (50, 56):
        session.edit("Paint", lambda annotation, i=index: annotation.set_mask(labels[i]), index=index)
    network_window.controller.show_slice(53)
    key(qtbot, network_window, Qt.Key.Key_N)
    interpolated = masks(session, range(51, 56))
    asked = []
    monkeypatch.setattr(segmenting, "ask_replace_carried", lambda parent, count: asked.append(count) or "keep")
    segment_whole_case(qtbot, network_window)
    assert asked == [5]
    assert masks(session, range(51, 56)) == interpolated and session.status(53) is S.INTERPOLATED
    assert session.status(20) is S.PREDICTED

    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    monkeypatch.setattr(segmenting, "ask_replace_carried", lambda parent, count: "replace")
    segment_whole_case(qtbot, network_window)
    assert all(session.status(i) is S.PREDICTED for i in range(51, 56))
    ctrl(qtbot, network_window, Qt.Key.Key_Z)
    monkeypatch.setattr(segmenting, "ask_replace_carried", lambda parent, count: "cancel")
    network_window.ai.segmenting.actions["segment_case"].trigger()
    assert not network_window.ai.segmenting.predict.is_running, "Cancel starts nothing"
    assert masks(session, range(51, 56)) == interpolated


def test_f_propagated_slices_are_called_propagated_and_drawn_in_their_own_colour(qtbot, network_window, sample_case):
    session = network_window.session
    _volume, labels = sample_case
    session.edit("Paint", lambda annotation: annotation.set_mask(labels[60]), index=60)
    network_window.controller.show_slice(60)
    with qtbot.waitSignal(network_window.multi_slice.finished, timeout=TIMEOUT_MS):
        key(qtbot, network_window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
    assert session.status(61) is S.PROPAGATED
    assert network_window.slice_list.item(61).text().split()[1] == "propagated"
    network_window.controller.show_slice(61)
    rows, cols = np.nonzero(session.annotation(61).mask)
    assert overlay_pixel(network_window, int(cols[0]), int(rows[0]))[:3] == CARRIED_RGB
    legend = [label.text() for label in network_window.overlay_panel.findChildren(QLabel)]
    assert "Interpolated or propagated" in legend
    network_window.slice_list.set_filter(SliceFilter.PROPAGATED)
    shown = network_window.slice_list.shown()
    assert shown and all(session.status(i) is S.PROPAGATED for i in shown)
    assert network_window.slice_list.filter_box.currentText() == f"Propagated ({len(shown)})"


def test_e_a_run_stopped_by_a_case_switch_says_so_and_resumes(qtbot, network_window, network, sample_dir, image_stack_case):
    """Issue 18 E: a case switch during Segment Whole Case stopped the run without a message; the unfinished slices
    read "empty" and the run could not be resumed."""
    session = network_window.session
    network.hold_after = 40
    shown = []
    network_window.ai.segmenting.predict.slice_predicted.connect(shown.append)
    network_window.ai.segmenting.actions["segment_case"].trigger()
    qtbot.waitUntil(lambda: len(shown) == 40, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(network_window.ai.segmenting.predict.finished, timeout=TIMEOUT_MS):
        open_case(qtbot, network_window, image_stack_case)
    notice = network_window.ai.segmenting.notice_text.text()
    assert network_window.ai.segmenting.notice.isVisible()
    assert "stopped after 40 of 128 slices because another case was opened" in notice and "Resume" in notice

    open_case(qtbot, network_window, sample_dir)
    session = network_window.session
    assert session.unsegmented == list(range(40, 128))
    assert network_window.ai.segmenting.notice.isVisible() and "88 slice(s) are not segmented" in \
        network_window.ai.segmenting.notice_text.text()
    assert network_window.ai.segmenting.actions["resume_segmentation"].isEnabled()
    network.hold_after = None
    with qtbot.waitSignal(network_window.ai.segmenting.predict.finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(network_window.ai.segmenting.notice_resume, Qt.MouseButton.LeftButton)
    assert all(session.status(i) is S.PREDICTED for i in range(session.num_slices))
    assert session.unsegmented == [] and not network_window.ai.segmenting.actions["resume_segmentation"].isEnabled()
