"""Issue 18 G and O in the app: the app starts where the user left off (the sample only on a first start), the
model's predictions never count as the user's unsaved edits when quitting; cases are named after the patient and
series rather than a folder called DICOM, and can be renamed; one DICOM file opens on its own slice; the app writes
a log file."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from core.annotation.slice_status import SliceStatus
from core.app_paths import sample_case_dir
from gui import dialogs
from gui.app import start_case
from tests.support.window import open_case, segment_whole_case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_g_the_sample_opens_on_a_first_start_only_and_its_predictions_are_not_the_users_edits(
        qtbot, make_window, monkeypatch, network, image_stack_case):
    """Issue 18 G: every start opened the bundled sample instead of the last case, and quitting asked about "128
    slice(s) have edits that are not saved": the model's predictions, which the user never made."""
    window = make_window()
    assert start_case(window.workspace, []) == (sample_case_dir(), None), "a first start: the sample"
    open_case(qtbot, window, sample_case_dir())
    segment_whole_case(qtbot, window)
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, count: asked.append(count) or "cancel")
    assert window.close() and asked == [], "no question about the model's predictions"

    restarted = make_window()
    target = start_case(restarted.workspace, [])
    assert target[0].resolve() == sample_case_dir().resolve(), "the last case, not because it is the sample"
    open_case(qtbot, restarted, target[0])
    assert all(restarted.session.status(i) is SliceStatus.PREDICTED for i in range(128)), "kept as a draft"
    open_case(qtbot, restarted, image_stack_case)
    assert restarted.close()
    assert start_case(make_window().workspace, [])[0] == image_stack_case.resolve(), "the case the user worked on last"


def test_g_quitting_asks_about_the_users_own_unsaved_work(qtbot, make_window, monkeypatch, sample_dir):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    window.session.take_prediction(10, window.session.annotation(40).mask)
    window.session.edit("Paint", lambda annotation: annotation.paint_disk(30, 30, 4, 1), index=20)
    window.session.mark_reviewed([30])
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, count: asked.append(count) or "cancel")
    assert not window.close() and asked == [2], "the edit and the review; not the prediction"


def test_o_a_case_in_a_folder_called_dicom_is_named_after_patient_and_series_and_can_be_renamed(
        qtbot, make_window, monkeypatch, tmp_path):
    folder = tmp_path / "CD" / "DICOM"
    shutil.copytree(sample_case_dir(), folder)
    window = make_window()
    open_case(qtbot, window, folder)
    assert window.session.name == "OKBP, PT224 — HEAD CT"
    assert window.case_list.item(0).text().splitlines()[0] == "OKBP, PT224 — HEAD CT"
    assert "PT224" not in window.session.store.record.file_stem, "exported files are not named after the patient"

    monkeypatch.setattr(dialogs, "ask_text", lambda parent, title, label, text: "  Jaw   before surgery ")
    menu = window.case_list.context_menu(window.case_list.item(0))
    next(a for a in menu.actions() if a.text() == "Rename…").trigger()
    assert window.session.name == "Jaw before surgery" and window.windowTitle().startswith("Jaw before surgery — ")
    assert window.case_list.item(0).text().splitlines()[0] == "Jaw before surgery"
    assert window.session.store.record.file_stem == "Jaw_before_surgery"
    window.autosave_now()
    assert window.workspace.case(window.session.case_id).record.display_name == "Jaw before surgery"


def test_o_one_dicom_file_opens_on_its_own_slice(qtbot, make_window):
    """Issue 18 O: opening IM00070.dcm landed on the last slice, not on slice 71."""
    window = make_window()
    open_case(qtbot, window, sample_case_dir() / "IM00070.dcm", first_view=True)
    assert window.session.current == 70 and window.status_labels["slice"].text() == "Slice 71 / 128"


@pytest.mark.process
@pytest.mark.slow
def test_o_the_app_writes_a_log_file(tmp_path):
    """Issue 18 O: the GUI wrote no log file (gui/app.py set up logging on its own)."""
    script = ("import logging, sys\n"
              "from PySide6.QtWidgets import QApplication\n"
              "QApplication.exec = lambda self: logging.getLogger('gui.probe').warning('probe written') or 0\n"
              "from gui.app import run_app\n"
              "sys.exit(run_app([sys.argv[1]], workspace=sys.argv[2]))\n")
    env = {**os.environ, "MANDIBLE_STUDIO_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "missing"), str(tmp_path / "ws")],
                          env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "home" / "logs" / "mandible-studio.log").read_text(encoding="utf-8")
    assert "probe written" in log


def test_o_a_3d_view_started_on_software_opengl_stays_started_for_the_next_case(qtbot, make_window, sample_dir,
                                                                                image_stack_case):
    """Issue 18 O: "3-D view paused" had to be dismissed again on every case switch."""
    from gui.views.surface_view import opengl_problem, software_renderer

    if opengl_problem() is not None or software_renderer() is None:
        pytest.skip(f"needs software OpenGL (run under Xvfb): {opengl_problem() or 'this OpenGL is hardware'}")
    window = make_window()
    open_case(qtbot, window, sample_dir)
    window.case_views.set_mode("2x2")
    surface = window.case_views.layout.surface
    assert not surface.available and surface.start_button.isVisible()
    qtbot.mouseClick(surface.start_button, Qt.MouseButton.LeftButton)
    assert surface.available
    open_case(qtbot, window, image_stack_case)
    assert window.case_views.mode == "2x2" and window.case_views.layout.surface.available, "not paused again"


def test_o_the_2x2_views_have_titles_and_orientation_letters(qtbot, make_window, sample_dir):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    assert window.view.caption is None, "one large view: no caption over the image"
    window.case_views.set_mode("2x2")
    planes = window.case_views.layout.planes
    captions = [window.view.caption] + [view.caption for view in planes.values()]
    assert captions == [("Axial", ("A", "P", "R", "L")), ("Coronal", ("S", "I", "R", "L")),
                        ("Sagittal", ("S", "I", "A", "P"))]
    assert window.case_views.layout.surface.title.text().startswith("3-D")


def test_k_the_case_list_counts_the_open_cases_slices_as_they_are_done(qtbot, make_window, sample_dir):
    """Issue 18 K: the case list's "N done" was stale while a case was open."""
    window = make_window()
    open_case(qtbot, window, sample_dir)
    assert "0 done" in window.case_list.item(0).text()
    window.session.mark_reviewed([10, 11, 12])
    qtbot.waitUntil(lambda: "3 done" in window.case_list.item(0).text(), timeout=10_000)
