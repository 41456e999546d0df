"""Segment Selected Cases… (issue 22 item 4): the cases selected in the case list are segmented in the background,
with progress and Cancel; their predictions wait as drafts, human slices kept; the open case is segmented in the
window as Segment Whole Case does; a case still waiting for its turn does not open."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel

from core.annotation.slice_status import SliceStatus
from core.io.loader import load_volume
from core.workspace import OpenCase
from gui.ai import segmenting_cases
from tests.support.cases import small_ct
from tests.support.window import open_case

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JOB_TIMEOUT_MS = 300_000  # only stops a hang


@pytest.fixture
def three_cases(make_window, qtbot, tmp_path, biased_models, monkeypatch):
    """A window with cases ana, ben (slice 2 drawn by a person, not saved) and carla; carla is open."""
    window = make_window()
    window.ai.segmenting.actions["refine"].setChecked(False)  # the biased model's masks, as in test_ai_predict
    version = window.ai.models.versions.import_model(biased_models["foreground"])
    assert window.ai.models.activate(version.version_id)
    cts = {name: small_ct(tmp_path / "cts" / f"{name}.nii.gz", 66, slices) for name, slices in
           (("ana", 6), ("ben", 6), ("carla", 4))}
    for name in ("ana", "ben", "carla"):
        open_case(qtbot, window, cts[name])
        if name == "ben":
            window.session.annotation(2).set_mask(np.eye(*window.session.volume.shape[1:], dtype=np.uint8))
    answers = []
    monkeypatch.setattr(segmenting_cases, "ask_segment_cases", lambda parent, names: answers.append(names)
                        or (True, False))
    return window, cts, answers


def _select(window, names):
    case_list = window.case_list
    case_list.clearSelection()
    for row in range(case_list.count()):
        if case_list.item(row).text().splitlines()[0] in names:
            case_list.selectionModel().select(case_list.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)


def _stored(window, cts, name):
    record = next(r for r in window.workspace.cases() if r.display_name == name)
    return OpenCase(load_volume(cts[name]), window.workspace.case(record.case_id))


def test_selected_cases_are_segmented_in_the_background_and_the_open_one_in_the_window(three_cases, qtbot):
    window, cts, answers = three_cases
    cases = window.ai.cases
    _select(window, ("ana", "ben", "carla"))
    progress, messages = [], []
    cases.job_progress.valueChanged.connect(progress.append)
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        with qtbot.waitSignal(cases.finished, timeout=JOB_TIMEOUT_MS) as done:
            cases.actions["segment_cases"].trigger()
            assert cases.job_bar.isVisible() and cases.job_cancel.isVisible()
    assert sorted(answers[0]) == ["ana", "ben", "carla"]
    assert [(o.case.name, o.status) for o in done.args[0]] == [("ben", "done"), ("ana", "done")]  # as listed
    assert max(progress) > 0 and not cases.job_bar.isVisible()
    assert "Segmented 2 case(s), 11 slice(s)" in messages  # ben's drawn slice is not segmented

    ana, ben = _stored(window, cts, "ana"), _stored(window, cts, "ben")
    assert all(ana.status(i) is SliceStatus.PREDICTED and ana.is_unsaved(i) for i in range(6))
    assert ben.status(2) is SliceStatus.EDITED
    assert np.array_equal(ben.annotation(2).mask, np.eye(*ben.volume.shape[1:]))
    assert all(ben.status(i) is SliceStatus.PREDICTED for i in (0, 1, 3, 4, 5))
    session = window.session  # carla, open: segmented in the window, one entry of its history
    assert all(session.status(i) is SliceStatus.PREDICTED and session.annotations[i].mask.all() for i in range(4))
    assert session.next_undo().text == "Segment whole case"


def test_a_waiting_case_does_not_open_and_cancel_keeps_what_was_done(three_cases, qtbot, recorded_dialogs,
                                                                      monkeypatch):
    window, cts, _ = three_cases
    cases = window.ai.cases
    real = segmenting_cases.segment_stored_case

    def pausing(workspace, case_id, segmenter, policy, overwrite, progress, cancel, **kwargs):
        def paused(step, total, message):  # the worker waits at slice 2 of a case until Cancel arrives
            progress(step, total, message)
            if step == 2:
                cancel.wait(60)
        return real(workspace, case_id, segmenter, policy, overwrite, paused, cancel, **kwargs)

    monkeypatch.setattr(segmenting_cases, "segment_stored_case", pausing)
    _select(window, ("ana", "ben"))  # listed (most recent first): ben, then ana
    assert cases.segment_selected()
    assert not window.open_path(cts["ana"]), "ana waits for its turn"
    title, text = recorded_dialogs.messages[-1]
    assert title == "Cannot open yet" and "ana is waiting to be segmented" in text
    with qtbot.waitSignal(cases.task.finished, timeout=JOB_TIMEOUT_MS):
        qtbot.waitUntil(lambda: cases.job_progress.value() == 2, timeout=JOB_TIMEOUT_MS)
        cases.job_cancel.click()
    assert "cancelled" in window.statusBar().currentMessage() and not cases.job_bar.isVisible()
    ana, ben = _stored(window, cts, "ana"), _stored(window, cts, "ben")
    predicted = [i for i in range(6) if ben.status(i) is SliceStatus.PREDICTED]
    todo = [0, 1, 3, 4, 5]  # slice 2 is a person's
    # the slices done are kept: those before the pause, and the rest of the batch the network had already run
    # (one slice with torch, four with OpenVINO); the cancel stops the next batch
    assert 2 <= len(predicted) < len(todo) and predicted == todo[:len(predicted)], predicted
    assert not any(ana.status(i) is SliceStatus.PREDICTED for i in range(6)), "ana's turn never came"
    open_case(qtbot, window, cts["ana"])  # the run is over: ana opens


def test_the_menu_of_a_case_outside_the_selection_segments_that_case_only(three_cases, monkeypatch):
    window, _, answers = three_cases
    case_list = window.case_list
    _select(window, ("carla", "ben"))
    rows = {case_list.item(r).text().splitlines()[0]: case_list.item(r) for r in range(case_list.count())}
    assert "Segment 2 Selected Cases…" in [a.text() for a in case_list.context_menu(rows["ben"]).actions()]
    monkeypatch.setattr(segmenting_cases, "ask_segment_cases", lambda parent, names: answers.append(names)
                        or (False, False))  # the user looks, then cancels
    menu = case_list.context_menu(rows["ana"])
    next(a for a in menu.actions() if a.text() == "Segment This Case…").trigger()
    assert answers[-1] == ["ana"] and not window.ai.cases.is_running
