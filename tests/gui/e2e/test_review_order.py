"""Per-slice confidence in the app: the slice list shows how sure the model was, U visits the least certain
predicted slices first, and the confidence stays with the prediction when the case is opened again."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.support.window import key, open_case

CONFIDENCES = {10: 0.95, 40: 0.35, 70: 0.6, 90: 0.2}


def _bone_blob() -> np.ndarray:
    mask = np.zeros((128, 128), np.uint8)
    mask[50:80, 40:90] = 1
    return mask


def test_u_goes_to_the_least_sure_slices_of_the_whole_case_not_to_surer_neighbours(make_window, qtbot,
                                                                                    sample_dir):
    """Issue 18 C: after Segment Whole Case on slice 65 (88 %), U went to 63 (89 %), then 64, while 49 and 83
    (0 %) and 50 (50 %) were the least sure."""
    window = make_window()
    open_case(qtbot, window, sample_dir)
    session = window.session
    sure = {48: 0.0, 82: 0.0, 49: 0.5, 62: 0.89, 63: 0.9, 64: 0.88, 100: 0.97}  # slices 49, 83, 50, 63, 64, 65, 101
    for index, confidence in sure.items():
        assert session.take_prediction(index, _bone_blob(), confidence)
    window.controller.show_slice(64)
    visited = []
    for _ in range(6):
        key(qtbot, window, Qt.Key.Key_U)
        visited.append(session.current + 1)
    assert visited == [49, 83, 50, 63, 64, 101], "least sure first, across the case, each once"
    assert "97% sure" in window.statusBar().currentMessage()


def test_u_visits_the_least_certain_slices_first_and_the_list_shows_how_sure(make_window, qtbot, sample_dir,
                                                                          recorded_dialogs):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    session = window.session
    for index, confidence in CONFIDENCES.items():  # what a segmentation hands the case
        assert session.take_prediction(index, _bone_blob(), confidence)
    assert window.slice_list.item(90).text().split() == ["91", "predicted", "20%", "•unsaved"]
    item = window.slice_list.item(90)  # issue 18 K: "•unsaved" is not cut off
    assert window.slice_list.visualItemRect(item).width() <= window.slice_list.viewport().width()
    assert window.slice_list.fontMetrics().horizontalAdvance(item.text()) + 40 <= window.slice_list.viewport().width()
    assert "%" not in window.slice_list.item(5).text()
    window.controller.show_slice(0)
    visited = []
    for _ in range(5):
        key(qtbot, window, Qt.Key.Key_U)
        visited.append(session.current)
    assert visited == [90, 40, 70, 10, 90]  # worst first, then round again

    key(qtbot, window, Qt.Key.Key_U)  # at 40
    key(qtbot, window, Qt.Key.Key_R)  # checked: no longer the model's to doubt
    assert "%" not in window.slice_list.item(40).text()
    key(qtbot, window, Qt.Key.Key_U)
    assert session.current == 70, "the next least sure not yet shown in this pass"

    recorded_dialogs.close_answer = "keep"
    assert window.close()
    reopened = make_window()
    open_case(qtbot, reopened, sample_dir)
    assert "60%" in reopened.slice_list.item(70).text()
    assert reopened.session.case.confidence(70) == 0.6
