"""GUI test set-up: a main window on a temporary workspace, real mouse/key/wheel events at image
coordinates, and dialogs replaced by recorders so no modal window ever blocks a test.

Worker threads end with their test (docs/decisions/150, 151): Python's garbage collector runs only in the
GUI thread, and after each test (its windows closed and destroyed by then) no worker may still be running
for a live owner, and every detached one must end once cancelled; the next test starts with none."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from gui import close_guard, dialogs, workers
from gui.main_window import MainWindow
from tests.conftest import SAMPLE_DIR

OPEN_TIMEOUT_MS = 120_000
THREAD_END_TIMEOUT_MS = 120_000  # only stops a hang: a cancelled job ends at its next step


@pytest.fixture(scope="session", autouse=True)
def garbage_collected_in_gui_thread(qapp):
    """As in the app (gui/app.py): no worker thread ever destroys a Qt object of the GUI thread."""
    collector = workers.collect_garbage_in_gui_thread(qapp)
    yield collector
    collector.stop()
    gc.collect()


@pytest.fixture(autouse=True)
def workers_end_with_their_test(qapp, monkeypatch):
    """Closing a window at the end of a test cancels its AI jobs instead of asking; afterwards (pytest-qt has
    closed the test's windows before this teardown) every worker thread is finished or detached and ending."""
    monkeypatch.setattr(close_guard, "ask_cancel_jobs", lambda parent, what: True)
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the closed windows are destroyed now
    owned = [task.name for task in workers.live_tasks() if task.thread_running and not task.is_detached]
    stuck = workers.join_all(THREAD_END_TIMEOUT_MS)
    assert not stuck, f"worker threads did not end when cancelled: {stuck}"
    assert not owned, (f"the test ended with worker threads still running for a live owner: {owned}; wait for "
                       "them, or close the window that owns them")


@dataclass
class Dialogs:
    """What the app asked or said; answers for the next questions."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    series_shown: list[list] = field(default_factory=list)
    series_answer: int | None = None  # index of the series to choose; None = cancel
    choosers: list = field(default_factory=list)  # the series choosers shown (dialogs.SeriesChooser)
    close_answer: str = "cancel"
    no_model_answer: str | None = None  # the no-model question: "import", "train" or None (Close)
    replace_asked: list[str] = field(default_factory=list)  # "Replace?" questions before an export
    replace_answer: bool = False


@pytest.fixture
def recorded_dialogs(monkeypatch) -> Dialogs:
    record = Dialogs()
    monkeypatch.setattr(dialogs.QMessageBox, "warning",
                        lambda parent, title, text, *a: record.messages.append((title, text)))

    def choose(chooser):
        record.series_shown.append([chooser.list.item(row).text() for row in range(chooser.list.count())])
        record.choosers.append(chooser)
        if record.series_answer is None:
            return dialogs.QDialog.DialogCode.Rejected
        chooser.list.setCurrentRow(record.series_answer)
        return dialogs.QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.SeriesChooser, "exec", choose)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, count: record.close_answer)
    monkeypatch.setattr(dialogs, "ask_replace",
                        lambda parent, text: record.replace_asked.append(text) or record.replace_answer)
    monkeypatch.setattr(dialogs, "ask_no_model",
                        lambda parent, title, text: record.messages.append((title, text)) or record.no_model_answer)
    return record


@pytest.fixture
def workspace_dir(tmp_path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def make_window(qtbot, workspace_dir, recorded_dialogs):
    """Build a shown MainWindow on the test workspace (call again to 'restart' the app)."""

    def make(autosave_ms: int = 200, register: bool = True) -> MainWindow:
        window = MainWindow(workspace_dir, autosave_ms=autosave_ms)
        if register:
            qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture(scope="module")
def sample():
    """The bundled sample CT and its clinical mandible label, (Volume, uint8 labels)."""
    label_path = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"
    if not SAMPLE_DIR.is_dir() or not label_path.is_file():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    volume = load_volume(SAMPLE_DIR)
    return volume, load_nifti_labels(label_path, volume)


@pytest.fixture
def sample_window(qtbot, make_window) -> MainWindow:
    """A main window with the bundled sample case open and the view focused."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    return window


def open_case(qtbot, window: MainWindow, path, timeout: int = OPEN_TIMEOUT_MS, first_view: bool = False) -> None:
    """Open `path` and focus the view. A case new to the workspace opens, in the app, on anatomy (decision 173);
    here it is put on slice 1, where the tests written before that count from, unless `first_view` keeps the
    app's choice. A case opened before stays where the app put it (its last slice)."""
    cases_before = len(window.workspace.cases())
    with qtbot.waitSignal(window.case_opened, timeout=timeout):
        assert window.open_path(path)
    if not first_view and len(window.workspace.cases()) > cases_before:
        window.controller.show_slice(0)
    window.view.setFocus()


def view_point(window: MainWindow, x: float, y: float) -> QPoint:
    """The viewport point over the centre of image pixel (column x, row y)."""
    return window.view.mapFromScene(QPointF(x + 0.5, y + 0.5))


def click(qtbot, window, x, y, button=Qt.MouseButton.LeftButton):
    qtbot.mouseClick(window.view.viewport(), button, pos=view_point(window, x, y))


def drag(qtbot, window, start, end, button=Qt.MouseButton.LeftButton):
    viewport = window.view.viewport()
    qtbot.mouseMove(viewport, view_point(window, *start))
    qtbot.mousePress(viewport, button, pos=view_point(window, *start))
    qtbot.mouseMove(viewport, view_point(window, *end))
    qtbot.mouseRelease(viewport, button, pos=view_point(window, *end))


def key(qtbot, window, key_name: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.view, key_name, modifiers)


def wheel(window: MainWindow, notches: int, modifiers=Qt.KeyboardModifier.NoModifier, at: QPoint | None = None):
    """Turn the mouse wheel over the view; positive = toward the user (next slice)."""
    viewport = window.view.viewport()
    pos = QPointF(at if at is not None else viewport.rect().center())
    step = -120 if notches > 0 else 120
    for _ in range(abs(notches)):
        event = QWheelEvent(pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, step),
                            Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, event)


def current_mask(window: MainWindow) -> np.ndarray:
    session = window.session
    annotation = session.annotations.get(session.current)
    return np.zeros(session.volume.shape[1:], np.uint8) if annotation is None else annotation.mask.copy()
