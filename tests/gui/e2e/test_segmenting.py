"""Segment this slice / whole case in the app: masks fill the overlay, human slices stay untouched, failures
show a message, a model change updates the predictions shown. (The GUI thread's stalls while segmenting are
measured by benchmarks/bench_jobs.py, not asserted here.)"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.inference.segmenter import Segmenter
from core.annotation.slice_status import SliceStatus
from gui import close_guard
from gui.ai import models, segmenting
from tests.support.window import click, current_mask, key, open_case, view_point, wheel

pytestmark = pytest.mark.usefixtures("no_bundled_starter")  # AI tests choose their models

JOB_TIMEOUT_MS = 300_000  # only stops a hang: segmenting takes a minute or more on a loaded 2-core machine


@pytest.fixture
def ai_window(make_window, qtbot, sample_dir):
    window = make_window()
    ai = window.ai
    # The biased models see the sample at 8 mm per pixel, so refinement would keep only its bone: these tests
    # check that the model's own masks reach the screen (refinement has its tests in tests/core/test_refine.py).
    ai.segmenting.actions["refine"].setChecked(False)
    open_case(qtbot, window, sample_dir)
    return window, ai


def _use_model(ai, path):
    version = ai.models.versions.import_model(path)
    assert ai.models.activate(version.version_id)
    return version


def _segment_case(qtbot, ai, **kwargs):
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert ai.segmenting.segment_case(**kwargs)


def test_segment_whole_case_fills_every_slice_and_keeps_human_slices(ai_window, qtbot, biased_models):
    window, ai = ai_window
    session = window.session
    _use_model(ai, biased_models["foreground"])
    reviewed, edited = 40, 60
    for index in (reviewed, edited):
        session.annotation(index).set_mask(np.eye(*session.volume.shape[1:], dtype=np.uint8))
    session.set_current(reviewed)
    session.toggle_reviewed()
    before = {i: session.annotations[i].mask.copy() for i in (reviewed, edited)}
    shown = []
    ai.segmenting.predict.slice_predicted.connect(shown.append)
    _segment_case(qtbot, ai)

    policy = ai.segmenting.predict.policy
    expected = Segmenter.from_file(biased_models["foreground"]).predict_volume(session.volume, policy)
    for index in range(session.num_slices):
        if index in before:
            assert np.array_equal(session.annotations[index].mask, before[index]), f"slice {index} was overwritten"
            continue
        assert np.array_equal(session.annotations[index].mask, expected[index]), index
        assert session.annotations[index].mask.mean() > 0.5
        assert session.status(index) is SliceStatus.PREDICTED
    assert session.status(reviewed) is SliceStatus.REVIEWED and session.status(edited) is SliceStatus.EDITED
    assert shown == [i for i in range(session.num_slices) if i not in before]  # one by one, in slice order
    window.controller.show_slice(5)  # the overlay on screen is the prediction
    assert np.array_equal(current_mask(window), session.annotations[5].mask)
    predicted = [session.annotations[i].mask.copy() for i in range(session.num_slices)]
    window.controller.show_slice(100)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the whole run is one history entry
    assert not any(session.annotations[i].mask.any() for i in range(session.num_slices) if i not in before)
    assert all(np.array_equal(session.annotations[i].mask, before[i]) for i in before)
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert all(np.array_equal(session.annotations[i].mask, predicted[i]) for i in range(session.num_slices))


def test_replacing_edited_slices_only_when_asked(ai_window, qtbot, biased_models, monkeypatch):
    window, ai = ai_window
    session = window.session
    _use_model(ai, biased_models["foreground"])
    session.annotation(7).paint_disk(20, 20, 3, 1)
    assert session.status(7) is SliceStatus.EDITED
    monkeypatch.setattr(segmenting, "ask_replace_edited", lambda parent, count: False)
    assert not ai.segmenting.segment_case(overwrite=True)
    monkeypatch.setattr(segmenting, "ask_replace_edited", lambda parent, count: True)
    _segment_case(qtbot, ai, overwrite=True)
    assert session.status(7) is SliceStatus.PREDICTED and session.annotations[7].mask.mean() > 0.5


def test_segment_this_slice_and_model_change_updates_predictions(ai_window, qtbot, biased_models):
    window, ai = ai_window
    session = window.session
    first = _use_model(ai, biased_models["foreground"])
    window.controller.show_slice(30)
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert ai.segmenting.segment_slice()
    assert current_mask(window).mean() > 0.5 and session.status(30) is SliceStatus.PREDICTED
    assert 31 not in session.annotations  # only this slice
    second = ai.models.versions.import_model(biased_models["background"])
    ai.models.refresh()
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        ai.models.panel.select(second.version_id)
        ai.models.panel.activate_button.click()
    assert ai.models.versions.active_id == second.version_id
    assert not current_mask(window).any()  # the prediction shown now comes from the new model
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):  # a slice predicted empty is re-run too
        ai.models.panel.rollback_button.click()
    assert ai.models.versions.active_id == first.version_id
    assert ai.models.panel.table.rowCount() == 2


def test_no_model_explains_how_to_get_one(ai_window, recorded_dialogs):
    window, ai = ai_window
    assert ai.models.panel.hint.isVisible()
    assert not ai.segmenting.segment_case()
    title, text = recorded_dialogs.messages[-1]
    assert title == "No model yet" and "Import model" in text and "Retrain" in text
    assert not window.session.annotations or not any(a.mask.any() for a in window.session.annotations.values())


def test_model_that_fails_to_load_shows_a_message_and_app_stays_usable(ai_window, qtbot, biased_models,
                                                                      recorded_dialogs):
    window, ai = ai_window
    version = _use_model(ai, biased_models["foreground"])
    data = bytearray(version.model_path.read_bytes())
    data[-100] ^= 0xFF  # damaged on disk after it was activated
    version.model_path.write_bytes(bytes(data))
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert ai.segmenting.segment_slice()
    title, text = recorded_dialogs.messages[-1]
    assert title == "Segmentation failed" and "modified" in text
    assert not ai.segmenting.job_bar.isVisible() and not ai.segmenting.predict.is_running
    wheel(window, 3)  # still usable: scroll, and segment with a good model
    assert window.session.current == window.session.case.last_slice
    _use_model(ai, biased_models["background"])
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert ai.segmenting.segment_slice()
    assert len(recorded_dialogs.messages) == 1


def test_forced_exception_in_the_worker_shows_a_message(ai_window, qtbot, biased_models, recorded_dialogs,
                                                        monkeypatch):
    window, ai = ai_window
    _use_model(ai, biased_models["foreground"])

    def broken(self, canvas):
        raise RuntimeError("forced failure")

    monkeypatch.setattr(Segmenter, "probabilities", broken)
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert ai.segmenting.segment_case()
    title, text = recorded_dialogs.messages[-1]
    assert title == "Segmentation failed" and "forced failure" in text
    assert window.isVisible() and ai.segmenting.actions["segment_case"].isEnabled()


def test_import_refuses_a_tampered_file_and_export_round_trips(ai_window, qtbot, biased_models, recorded_dialogs,
                                                              monkeypatch, tmp_path):
    window, ai = ai_window
    tampered = tmp_path / "tampered.msmodel"
    data = bytearray(biased_models["foreground"].read_bytes())
    data[-50] ^= 0xFF
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(models, "ask_model_file", lambda parent: str(tampered))
    assert ai.models.import_model()
    qtbot.waitUntil(lambda: not ai.models.import_task.is_running, timeout=JOB_TIMEOUT_MS)
    assert recorded_dialogs.messages[-1][0] == "Cannot import" and ai.models.versions.versions() == []
    monkeypatch.setattr(models, "ask_model_file", lambda parent: str(biased_models["foreground"]))
    with qtbot.waitSignal(ai.models.version_activated, timeout=JOB_TIMEOUT_MS):
        assert ai.models.import_model()
    out = tmp_path / "exported.msmodel"
    monkeypatch.setattr(models, "ask_export_path", lambda parent, name: str(out))
    assert ai.models.export_model()
    assert out.read_bytes() == biased_models["foreground"].read_bytes()


def test_closing_while_segmenting_asks_and_cancels_cleanly(make_window, qtbot, sample_dir, biased_models,
                                                           monkeypatch, recorded_dialogs):
    window = make_window(register=False)
    ai = window.ai
    open_case(qtbot, window, sample_dir)
    _use_model(ai, biased_models["foreground"])
    answers = []
    monkeypatch.setattr(close_guard, "ask_cancel_jobs", lambda parent, what: answers.append(what) or len(answers) > 1)
    recorded_dialogs.close_answer = "keep"
    assert ai.segmenting.segment_case()
    assert not window.close() and window.isVisible() and ai.segmenting.predict.is_running  # "No": keeps running
    assert window.close()  # "Yes": cancelled, thread ended, window closed
    assert answers == ["A segmentation", "A segmentation"]
    assert not ai.segmenting.predict.is_running and not ai.segmenting.predict.task._thread.isRunning()
    window.deleteLater()


def test_app_starts_with_the_installed_starter_model(make_window, qtbot, sample_dir, biased_models, monkeypatch,
                                                     tmp_path):
    from core.workspace import model_versions

    installed = tmp_path / "installed-models"
    installed.mkdir()
    (installed / "starter.msmodel").write_bytes(biased_models["foreground"].read_bytes())
    monkeypatch.setattr(model_versions, "bundled_models_dir", lambda: installed)
    window = make_window()
    active = window.ai.models.versions.active()
    assert active.origin == "starter" and not window.ai.models.panel.hint.isVisible()
    window.ai.segmenting.actions["refine"].setChecked(False)  # the biased model's own mask (see ai_window)
    open_case(qtbot, window, sample_dir)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        assert window.ai.segmenting.segment_slice()
    assert current_mask(window).mean() > 0.5
    restarted = make_window()  # the active version persists; the starter is not registered twice
    assert restarted.ai.models.versions.active_id == active.version_id and len(restarted.ai.models.versions.versions()) == 1


def test_a_prediction_never_lands_under_the_brush_or_wipes_a_half_drawn_polygon(ai_window, qtbot, biased_models):
    window, ai = ai_window
    session = window.session
    _use_model(ai, biased_models["foreground"])  # predicts mandible everywhere
    drawing, painted = 60, 40
    window.controller.show_slice(drawing)
    key(qtbot, window, Qt.Key.Key_P)
    click(qtbot, window, 30, 30)
    click(qtbot, window, 60, 30)
    _segment_case(qtbot, ai)  # the prediction arrives for the slice with the half-drawn polygon
    assert session.annotation(drawing).mask.mean() > 0.5
    assert len(window.view.tool.points) == 2, "the half-drawn polygon was wiped"

    window.controller.show_slice(painted)
    key(qtbot, window, Qt.Key.Key_B)
    viewport = window.view.viewport()
    # The brush is held down inside the predicted mandible (nothing changed yet, the slice is still
    # "predicted") while activating another model re-segments every predicted slice.
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=view_point(window, 64, 64))
    with qtbot.waitSignal(ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        _use_model(ai, biased_models["background"])  # predicts no mandible anywhere
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=view_point(window, 64, 64))
    assert session.annotation(painted).mask.all(), "the slice under the held brush was replaced"
    assert not session.annotation(drawing).mask.any()  # the other predicted slices did follow the new model


@pytest.mark.shared
@pytest.mark.slow
def test_the_app_and_the_cli_give_the_same_masks_on_the_sample_case(make_window, qtbot, sample_dir, tmp_path,
                                                                     biased_models):
    """One prediction path: Segment Whole Case in the app and `main.py predict` agree on every slice (a tiny model
    that finds the mandible everywhere: the policy's clean-up and refinement then shape every mask)."""
    from core.io.nifti import load_nifti_labels
    from main import main

    model = biased_models["foreground"]
    assert main(["predict", "--model", str(model), str(sample_dir), "--out", str(tmp_path / "cli")]) == 0
    window = make_window()
    open_case(qtbot, window, sample_dir)
    _use_model(window.ai, model)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS * 3):
        assert window.ai.segmenting.segment_case()
    session = window.session
    cli = load_nifti_labels(tmp_path / "cli" / "mandible_mask.nii.gz", session.volume)
    app = np.stack([session.annotation(i).mask for i in range(session.num_slices)])
    assert cli.any() and np.array_equal(app, cli)
    assert all(session.status(i) is SliceStatus.PREDICTED for i in range(session.num_slices))


def test_refinement_is_a_setting_in_the_app(make_window):
    """The app's switch for the policy's refinement step, as --no-refine is the CLI's; on by default."""
    ai = make_window().ai
    assert ai.segmenting.actions["refine"].isChecked() and ai.segmenting.predict.policy.refine
    ai.segmenting.actions["refine"].trigger()
    assert not ai.segmenting.predict.policy.refine and ai.segmenting.predict.policy.clean
