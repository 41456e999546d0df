"""Workers end before their owners (issue 10): closing the window while a case loads or while a model trains,
destroying it while a case loads, and opening another case during a whole-case prediction never crash the app
and never lose the edits made before. Nothing here measures time: each wait only stops a hang."""
from __future__ import annotations

import gc
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QDialog

from core.annotation.slice_status import SliceStatus
from core.io.slice_export import export_volume
from core.windowing import WINDOW_PRESETS
from core.workspace import OpenCase, Workspace
from gui import workers
from gui.ai.retrain_dialog import RetrainDialog
from core.training.retrain import interrupted_plan
from tests.support.paths import ROOT, SAMPLE_DIR
from tests.support.window import OPEN_TIMEOUT_MS, THREAD_END_TIMEOUT_MS, click, current_mask, key, open_case

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

EDITED = 40  # a slice through the mandible; the edit is one brush dab at (64, 64)
JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def sample_as_labelme(sample_case, tmp_path):
    """A second case: the sample exported as a Labelme folder (another source, another workspace case)."""
    volume, labels = sample_case
    folder = tmp_path / "other-case"
    export_volume(folder, volume, labels, WINDOW_PRESETS["bone"])
    return folder


def _edit(qtbot, window) -> np.ndarray:
    window.controller.show_slice(EDITED)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 64, 64)
    mask = current_mask(window)
    assert mask[64, 64] == 1 and window.session.status(EDITED) is SliceStatus.EDITED
    return mask


def _assert_edit_kept(qtbot, make_window, edited: np.ndarray) -> None:
    """'Restart': a new window on the same workspace reopens the sample with the edit (saved or as a draft)."""
    again = make_window()
    open_case(qtbot, again, SAMPLE_DIR)
    again.controller.show_slice(EDITED)
    assert np.array_equal(current_mask(again), edited)
    assert again.session.status(EDITED) is SliceStatus.EDITED


def _all_workers_ended(qtbot) -> None:
    qtbot.waitUntil(lambda: not workers.live_tasks(), timeout=THREAD_END_TIMEOUT_MS)


def test_closing_while_a_case_loads_keeps_the_edits_and_ends_the_loader(qtbot, make_window, sample_as_labelme,
                                                                         recorded_dialogs):
    window = make_window(autosave_ms=60_000)  # no timed autosave: only opening and closing keep the edit
    open_case(qtbot, window, SAMPLE_DIR)
    edited = _edit(qtbot, window)
    assert window.open_path(sample_as_labelme)
    loader = window.task
    assert loader.is_running
    recorded_dialogs.close_answer = "keep"
    assert window.close()
    _all_workers_ended(qtbot)
    assert not loader.is_running
    assert window.session.case.store.record.source_path.resolve() == SAMPLE_DIR.resolve()  # not replaced by the other
    assert recorded_dialogs.messages == []
    _assert_edit_kept(qtbot, make_window, edited)


def test_a_window_destroyed_while_a_case_loads_does_not_take_the_app_down(qtbot, make_window, sample_as_labelme):
    window = make_window(autosave_ms=60_000, register=False)
    open_case(qtbot, window, SAMPLE_DIR)
    edited = _edit(qtbot, window)
    assert window.open_path(sample_as_labelme) and window.task.is_running
    window.hide()  # killed: no closeEvent; the window and everything it owns are destroyed now
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    gc.collect()  # nothing of the test holds the loader's QThread any more: it must not be destroyed running
    assert all(task.is_detached for task in workers.live_tasks()), [t.name for t in workers.live_tasks()]
    _all_workers_ended(qtbot)
    _assert_edit_kept(qtbot, make_window, edited)  # opening the other case had written the draft first


def test_opening_another_case_during_a_whole_case_prediction(qtbot, make_window, sample_as_labelme, biased_models):
    window = make_window(autosave_ms=60_000)
    ai = window.ai
    open_case(qtbot, window, SAMPLE_DIR)
    version = ai.models.versions.import_model(biased_models["foreground"])
    assert ai.models.activate(version.version_id)
    edited = _edit(qtbot, window)
    predicted = []
    ai.segmenting.predict.slice_predicted.connect(predicted.append)
    assert ai.segmenting.segment_case()
    qtbot.waitUntil(lambda: len(predicted) >= 4, timeout=JOB_TIMEOUT_MS)
    assert ai.segmenting.predict.is_running
    with qtbot.waitSignal(window.case_opened, timeout=OPEN_TIMEOUT_MS):
        assert window.open_path(sample_as_labelme)
    qtbot.waitUntil(lambda: not ai.segmenting.predict.is_running, timeout=JOB_TIMEOUT_MS)
    _all_workers_ended(qtbot)
    session = window.session
    assert session.case.store.record.source_path.resolve() == sample_as_labelme.resolve()
    assert not any(session.status(i) is SliceStatus.PREDICTED for i in range(session.num_slices))  # none landed here

    open_case(qtbot, window, SAMPLE_DIR)  # back to the first case: the human edit is there
    window.controller.show_slice(EDITED)
    assert np.array_equal(current_mask(window), edited)
    assert window.session.status(EDITED) is SliceStatus.EDITED


def _reviewed_sample_workspace(root, sample_case) -> None:
    """The sample's clinical contour, reviewed and saved: training data without ../shared."""
    volume, labels = sample_case
    case = OpenCase(volume, Workspace.create(root).add_case(volume, SAMPLE_DIR))
    for index in case.import_labels(labels):
        case.toggle_reviewed(index)
    case.save()


def _tiny_plan(monkeypatch) -> None:
    def exec_(dialog: RetrainDialog) -> int:
        dialog.advanced_toggle.setChecked(True)
        dialog.advanced.epochs.setValue(3)
        dialog.advanced.freeze_epochs.setValue(1)
        dialog.advanced.size.setValue(64)
        dialog.advanced.batch.setValue(2)
        dialog.advanced.max_slices.setValue(8)
        dialog.advanced.init.setCurrentIndex(dialog.advanced.init.findData("none"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RetrainDialog, "exec", exec_)


@pytest.mark.process
@pytest.mark.slow
def test_closing_during_training_ends_the_run_and_keeps_the_edits(qtbot, make_window, workspace_dir, sample_case,
                                                                  monkeypatch, recorded_dialogs):
    _reviewed_sample_workspace(workspace_dir, sample_case)
    window = make_window(autosave_ms=60_000)
    ai = window.ai
    open_case(qtbot, window, SAMPLE_DIR)
    edited = _edit(qtbot, window)
    _tiny_plan(monkeypatch)
    events = []
    ai.training.train.event.connect(lambda event: events.append(type(event).__name__))
    assert ai.training.retrain()
    qtbot.waitUntil(lambda: "StepDone" in events, timeout=JOB_TIMEOUT_MS)  # it trains
    recorded_dialogs.close_answer = "keep"
    assert window.close()  # "cancel the training and close?" is answered yes by the GUI tests' fixture
    _all_workers_ended(qtbot)
    assert multiprocessing.active_children() == []  # the training process ended with its supervising thread
    assert not ai.training.train.is_running and ai.models.versions.versions() == []
    assert interrupted_plan(window.workspace.models_dir) is not None  # Resume is offered after the restart
    assert recorded_dialogs.messages == []
    _assert_edit_kept(qtbot, make_window, edited)


APP_DIES_WHILE_TRAINING = r"""
import multiprocessing, os, sys, threading
from core.training.retrain import RetrainPlan
from gui.ai.training_process import training_run

plan = RetrainPlan(dict(epochs=50, freeze_epochs=1, batch_size=2, input_size=64, init="none", max_slices_per_case=8))
started = threading.Event()  # the training process reports its first event (it is gathering the slices)
events = training_run(sys.argv[1], plan, False, threading.Event())
threading.Thread(target=lambda: [started.set() for _ in events], daemon=True).start()
started.wait(600)
print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
os._exit(3)  # the app dies mid-run: no Cancel, no clean-up
"""


def _process_ended(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie has ended; its new parent reaps it


@pytest.mark.process
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_the_training_process_stops_when_the_app_dies(workspace_dir, sample_case, tmp_path):
    _reviewed_sample_workspace(workspace_dir, sample_case)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out, err = tmp_path / "app.out", tmp_path / "app.err"  # files, not pipes: the training process inherits them
    with out.open("w") as stdout, err.open("w") as stderr:
        app = subprocess.run([sys.executable, "-c", APP_DIES_WHILE_TRAINING, str(workspace_dir)], cwd=ROOT, env=env,
                             stdout=stdout, stderr=stderr, timeout=JOB_TIMEOUT_MS / 1000)
    assert app.returncode == 3, err.read_text()
    (child,) = [int(pid) for pid in out.read_text().split()]
    deadline = time.monotonic() + THREAD_END_TIMEOUT_MS / 1000  # only stops a hang
    while not _process_ended(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _process_ended(child), "the training process kept running after the app died"
    assert interrupted_plan(Workspace.open(workspace_dir).models_dir) is not None  # Resume continues the run
