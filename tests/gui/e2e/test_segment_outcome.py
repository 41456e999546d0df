"""Cancel is not success (issue 13 item 6): a cancelled whole-case segmentation says how far it got, and slices
where the model found no mandible look different in the slice list from slices where it found one."""
from __future__ import annotations
import pytest

from core.annotation.slice_status import SliceStatus
from tests.support.window import open_case

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JOB_TIMEOUT_MS = 300_000  # only to stop a hang: a loaded 2-core machine is slow


def _window_with_model(make_window, qtbot, sample_dir, model):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    version = window.ai.models.versions.import_model(model)
    assert window.ai.models.activate(version.version_id)
    return window


def test_a_cancelled_segmentation_says_cancelled_and_how_far_it_got(make_window, qtbot, sample_dir, biased_models):
    window = _window_with_model(make_window, qtbot, sample_dir, biased_models["foreground"])
    segmenting = window.ai.segmenting
    shown = []
    segmenting.predict.slice_predicted.connect(shown.append)
    assert segmenting.segment_case()
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(segmenting.predict.finished, timeout=JOB_TIMEOUT_MS) as finished:
        segmenting.job_cancel.click()
    summary = finished.args[0]
    done = sum(1 for i in range(128) if window.session.status(i) is SliceStatus.PREDICTED)
    assert summary.startswith(f"Segmentation cancelled after {done} of 128 slices") and "Segmented" not in summary
    assert 3 <= done < 128 and window.statusBar().currentMessage() == summary


def test_slices_where_the_model_found_no_mandible_have_their_own_look(make_window, qtbot, sample_dir,
                                                                      biased_models):
    window = _window_with_model(make_window, qtbot, sample_dir, biased_models["background"])
    window.controller.show_slice(40)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS) as finished:
        assert window.ai.segmenting.segment_slice()
    assert finished.args[0] == "Segmented 1 slice(s), no mandible found on 1"
    row = window.slice_list.item(40)
    assert window.session.status(40) is SliceStatus.PREDICTED and not window.session.case.found_mandible(40)
    assert row.text().split()[1:3] == ["no", "mandible"] and "not training data" in row.toolTip()
    nothing_look = row.icon().pixmap(14, 14).toImage()

    version = window.ai.models.versions.import_model(biased_models["foreground"])
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert window.ai.models.activate(version.version_id)  # re-segments the predicted slice: bone found now
    assert window.slice_list.item(40).text().split()[1] == "predicted"
    assert window.slice_list.item(40).icon().pixmap(14, 14).toImage() != nothing_look
