"""GUI test fixtures: a main window on a temporary workspace, dialogs replaced by recorders so no modal window
ever blocks a test, and the AI tests' model files. (Driving the window: tests/support/window.py.)

Worker threads end with their test (docs/decisions/150, 151): Python's garbage collector runs only in the
GUI thread, and after each test (its windows closed and destroyed by then) no worker may still be running
for a live owner, and every detached one must end once cancelled; the next test starts with none."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from gui import close_guard, dialogs, workers
from gui.main_window import MainWindow
from tests.support.paths import SAMPLE_DIR
from tests.support.window import THREAD_END_TIMEOUT_MS, open_case


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


@pytest.fixture
def sample_window(qtbot, make_window) -> MainWindow:
    """A main window with the bundled sample case open and the view focused."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    return window


@pytest.fixture(scope="session")
def biased_models(tmp_path_factory) -> dict[str, Path]:
    from tests.support.models import write_biased_model

    folder = tmp_path_factory.mktemp("biased")
    return {"foreground": write_biased_model(folder / "all-mandible.msmodel", True),
            "background": write_biased_model(folder / "no-mandible.msmodel", False)}


@pytest.fixture(scope="session")
def resnet50_weights(tmp_path_factory) -> Path:
    """An untrained torchvision resnet50 state dict: a local weights file (ImageNet cannot be downloaded here)."""
    import torch
    import torchvision

    path = tmp_path_factory.mktemp("weights") / "resnet50-untrained.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet50().state_dict(), path)
    return path


@pytest.fixture
def no_bundled_starter(monkeypatch, tmp_path):
    """AI tests choose their models: an installed starter model (resources/models) is not registered (a module
    asks for it with pytestmark = pytest.mark.usefixtures("no_bundled_starter"))."""
    from core.workspace import model_versions

    monkeypatch.setattr(model_versions, "bundled_models_dir", lambda: tmp_path / "no-bundled-models")


@pytest.fixture
def network(monkeypatch, tmp_path, sample_case):
    """The network replaced by a LabelSegmenter of the sample's label (tests/support/models.py)."""
    from gui.ai import predict_controller, segmenting
    from tests.support.models import LabelSegmenter

    _volume, labels = sample_case
    fake = LabelSegmenter(labels)
    model = tmp_path / "stand-in.msmodel"
    model.write_bytes(b"the network is replaced in these tests")
    monkeypatch.setattr(predict_controller.SegmenterCache, "get", lambda self, path: fake)
    monkeypatch.setattr(segmenting.Segmenting, "active_model", lambda self: model)
    return fake


@pytest.fixture
def image_stack_case(tmp_path):
    """A second, small CT: a folder of five 8-bit images."""
    import numpy as np
    import PIL.Image

    folder = tmp_path / "other_ct"
    folder.mkdir()
    for n in range(5):
        PIL.Image.fromarray(np.full((32, 32), 40 * n, np.uint8)).save(folder / f"img{n:02d}.png")
    return folder
