"""One close path: every question is asked before anything is cancelled (issue 12). Pressing Cancel in the
save question after agreeing to stop a running AI job leaves the window open AND the job running."""
from __future__ import annotations

from PySide6.QtCore import Qt
import pytest

from gui import close_guard
from tests.support.window import click, key, open_case

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JOB_TIMEOUT_MS = 60_000


def test_cancel_in_the_save_question_cancels_nothing(make_window, qtbot, sample_dir, biased_models, monkeypatch,
                                                     recorded_dialogs):
    window = make_window(register=False)
    open_case(qtbot, window, sample_dir)
    version = window.ai.models.versions.import_model(biased_models["foreground"])
    assert window.ai.models.activate(version.version_id)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 30, 30)  # an unsaved edit: closing will ask about it
    asked = []
    monkeypatch.setattr(close_guard, "ask_cancel_jobs", lambda parent, what: asked.append(what) or True)
    recorded_dialogs.close_answer = "cancel"
    predict = window.ai.segmenting.predict
    assert window.ai.segmenting.segment_case()
    task = predict.task

    assert not window.close()  # "yes, stop it", then Cancel in the save question
    assert asked == ["A segmentation"] and window.isVisible()
    assert not task._worker.cancel_event.is_set(), "the segmentation was cancelled although the window stays open"

    recorded_dialogs.close_answer = "keep"
    assert window.close()  # now every answer says close: the job stops, the edit is kept as a draft
    assert task._worker.cancel_event.is_set() and not task._thread.isRunning()
    assert window.session.case.store.autosave_path(0).exists()
    window.deleteLater()
