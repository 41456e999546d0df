"""Opening cases: a Labelme folder brings its annotations, drag and drop opens a CT, recent cases and the
case list reopen one, and opening shows a progress bar while the case loads in a worker. (The GUI thread's
worst stall while loading is a benchmark figure: benchmarks/bench_gui.py.)"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from core.app_paths import sample_label_path
from core.io.slice_export import export_volume
from core.windowing import WINDOW_PRESETS
from core.annotation.slice_status import SliceStatus
from tests.support.paths import SAMPLE_DIR
from tests.support.window import current_mask, open_case, wheel


def test_labelme_folder_opens_with_its_annotations(qtbot, make_window, sample_case, tmp_path):
    volume, labels = sample_case
    folder = tmp_path / "dataset"
    export_volume(folder, volume, labels, WINDOW_PRESETS["bone"])
    window = make_window()
    open_case(qtbot, window, folder)
    assert window.session.volume.shape == volume.shape
    wheel(window, 60)
    assert np.array_equal(current_mask(window), labels[60] != 0)
    assert window.session.status(60) is SliceStatus.EDITED
    assert window.session.status(10) is SliceStatus.EMPTY
    assert window.slice_list.item(60).data(Qt.ItemDataRole.UserRole) == "edited"


def test_drop_a_folder_opens_it_and_it_appears_in_recent_cases(qtbot, make_window, sample_case, tmp_path):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SAMPLE_DIR))])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.case_opened, timeout=60_000):
        QApplication.sendEvent(window, drop)
    assert window.session.volume.shape == sample_case[0].shape
    recent = [a.text() for a in window.actions.recent_menu.actions()]
    assert recent == ["okbp_pt_224"]
    assert window.case_list.count() == 1 and "okbp_pt_224" in window.case_list.item(0).text()

    first = window.session.current  # a new case opens on anatomy (decision 173)
    wheel(window, 12)
    window.close()
    again = make_window()
    with qtbot.waitSignal(again.case_opened, timeout=60_000):
        again.actions.recent_menu.actions()[0].trigger()
    assert again.session.current == first + 12


def test_opening_shows_progress_until_the_case_is_shown(qtbot, make_window):
    window = make_window()
    steps = []
    window.open_path(SAMPLE_DIR)
    window.task.progress.connect(lambda step, total, message: steps.append((step, total)))
    assert window.progress.isVisibleTo(window)
    with qtbot.waitSignal(window.case_opened, timeout=60_000):
        pass
    assert not window.progress.isVisibleTo(window)
    assert len(steps) >= 3 and all(0 <= step <= total for step, total in steps)  # the bar moved as it read


def test_export_3d_opens_with_the_cases_annotations(qtbot, make_window, sample_case):
    volume, labels = sample_case
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    with qtbot.waitSignal(window.labels_imported, timeout=30_000):
        window.import_labels(sample_label_path())
    window.actions.export_3d.trigger()
    dialog = window.exports.export_dialog
    assert np.array_equal(dialog.labels, labels != 0)
    qtbot.waitUntil(lambda: dialog.result is not None or "fail" in dialog.status.text().lower(), timeout=60_000)
    assert dialog.result is not None
    dialog.reject()
