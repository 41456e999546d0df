"""Nothing a user made is lost by switching cases: a whole-case prediction, finished or still running, is
there when the user comes back to the case, and after a restart (issue 10, the okbp_pt_201 repro)."""
from __future__ import annotations

import numpy as np
import pytest

from core.annotation.slice_status import SliceStatus
from tests.support.window import open_case

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JOB_TIMEOUT_MS = 300_000  # only to stop a hang: a loaded 2-core machine is slow


def _predicted(session) -> dict[int, np.ndarray]:
    case = session.case
    return {i: case.annotation(i).mask.copy() for i in range(case.num_slices) if case.status(i) is SliceStatus.PREDICTED}


def _use_foreground_model(window, biased_models):
    version = window.ai.models.versions.import_model(biased_models["foreground"])
    assert window.ai.models.activate(version.version_id)


def test_a_finished_prediction_is_there_after_a_case_switch_and_a_restart(make_window, qtbot, sample_dir,
                                                                         image_stack_case, biased_models):
    window = make_window(autosave_ms=60_000)  # no draft timer: the switch itself must keep the work
    open_case(qtbot, window, sample_dir)
    _use_foreground_model(window, biased_models)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert window.ai.segmenting.segment_case()
    before = _predicted(window.session)
    assert len(before) == 128

    open_case(qtbot, window, image_stack_case)
    open_case(qtbot, window, sample_dir)
    after = _predicted(window.session)
    assert sorted(after) == sorted(before)
    assert all(np.array_equal(after[i], before[i]) for i in before)
    assert window.session.case.unsaved_indexes() == list(range(128))  # still unsaved: nothing claims otherwise
    assert "predicted" in window.slice_list.item(63).text() and "unsaved" in window.slice_list.item(63).text()

    window.hide()  # killed: no close, no save
    restarted = make_window()
    open_case(qtbot, restarted, sample_dir)
    again = _predicted(restarted.session)
    assert sorted(again) == sorted(before) and all(np.array_equal(again[i], before[i]) for i in before)


def test_switching_during_a_prediction_keeps_every_slice_it_showed(make_window, qtbot, sample_dir, image_stack_case,
                                                                   biased_models):
    window = make_window(autosave_ms=60_000)
    window.ai.segmenting.actions["refine"].setChecked(False)  # the biased model's own masks reach the case
    open_case(qtbot, window, sample_dir)
    _use_foreground_model(window, biased_models)
    shown = []
    window.ai.segmenting.predict.slice_predicted.connect(shown.append)
    assert window.ai.segmenting.segment_case()
    qtbot.waitUntil(lambda: len(shown) >= 5, timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        open_case(qtbot, window, image_stack_case)  # the prediction of the sample stops; what it showed is kept
    assert not window.ai.segmenting.predict.is_running

    open_case(qtbot, window, sample_dir)
    after = _predicted(window.session)
    assert sorted(after) == sorted(shown) and all(after[i].mean() > 0.5 for i in after)
    case = window.session.case
    assert all(case.status(i) is SliceStatus.EMPTY for i in range(128) if i not in after)
    assert case.unsaved_indexes() == sorted(shown)
