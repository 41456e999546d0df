"""Issue 4 acceptance: imported labels edited, saved and found again after reopening; a killed app gets its
edits back from autosave; a failed save says so and keeps the slice unsaved; closing asks first."""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt

from core.io.nifti import load_nifti_labels
from core.annotation.slice_status import SliceStatus
from tests.support.paths import shared_path
from tests.support.window import click, current_mask, key, open_case, wheel


def test_imported_label_volume_edited_saved_and_reopened(qtbot, make_window):
    ct = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_201_0000.nii.gz")
    label_path = shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_201.nii.gz")
    window = make_window()
    open_case(qtbot, window, ct)
    labels = load_nifti_labels(label_path, window.session.volume)
    with qtbot.waitSignal(window.labels_imported, timeout=30_000) as imported:
        window.import_labels(label_path)
    labelled = np.flatnonzero(labels.reshape(labels.shape[0], -1).any(axis=1))
    assert imported.args[0] == len(labelled)
    index = int(labelled[len(labelled) // 2])
    wheel(window, index)
    assert window.session.current == index
    assert np.array_equal(current_mask(window), labels[index] != 0)
    assert window.session.status(index) is SliceStatus.EDITED

    rows, cols = np.nonzero(labels[index])
    x, y = int(cols[0]), int(rows[0])  # a labelled pixel: erase around it
    key(qtbot, window, Qt.Key.Key_E)
    click(qtbot, window, x, y)
    edited = current_mask(window)
    assert edited[y, x] == 0 and edited.sum() < (labels[index] != 0).sum()
    with qtbot.waitSignal(window.saved, timeout=60_000):
        window.save_case()
    assert window.session.case.unsaved_indexes() == []
    window.close()

    reopened = make_window()
    open_case(qtbot, reopened, ct)
    assert reopened.session.current == index  # last slice restored
    assert np.array_equal(current_mask(reopened), edited)
    assert reopened.session.status(index) is SliceStatus.EDITED
    key(qtbot, reopened, Qt.Key.Key_B)
    click(qtbot, reopened, x, y)  # edit there again
    assert current_mask(reopened)[y, x] == 1 and reopened.session.case.is_unsaved(index)


def test_killed_app_restores_edits_from_autosave(qtbot, make_window, sample_dir):
    window = make_window(autosave_ms=100, register=False)
    open_case(qtbot, window, sample_dir)
    wheel(window, 40)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 64, 64)
    edited = current_mask(window)
    autosave = window.session.case.store.autosave_path(40)
    qtbot.waitUntil(autosave.exists, timeout=5_000)
    window.hide()  # killed: no closeEvent, no save; the object is simply abandoned
    window.deleteLater()

    restarted = make_window()
    open_case(qtbot, restarted, sample_dir)
    assert restarted.session.current == 40
    assert np.array_equal(current_mask(restarted), edited) and edited.any()
    assert restarted.session.status(40) is SliceStatus.EDITED
    assert restarted.session.case.is_unsaved(40)
    assert "unsaved" in restarted.slice_list.item(40).text()


def make_unwritable(folder):
    """A folder nobody can write into; as root (chmod does not stop root) a file takes its place."""
    if os.geteuid() == 0:
        folder.mkdir(parents=True, exist_ok=True)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
        folder.write_text("not a folder")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)


def test_save_into_unwritable_folder_shows_error_and_keeps_slice_unsaved(qtbot, make_window, sample_dir,
                                                                        recorded_dialogs):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 30, 30)
    make_unwritable(window.session.case.store.annotations_dir)
    with qtbot.waitSignal(window.save_failed, timeout=30_000):
        key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    title, text = recorded_dialogs.messages[-1]
    assert title == "Save failed" and "could not save slice 1" in text and "Traceback" not in text
    assert window.session.case.is_unsaved(0)
    assert "unsaved" in window.slice_list.item(0).text()
    assert current_mask(window)[30, 30] == 1  # the edit is still in memory
    click(qtbot, window, 90, 90)  # and the app is still usable
    assert current_mask(window)[90, 90] == 1


def test_close_with_unsaved_edits_asks_first(qtbot, make_window, sample_dir, recorded_dialogs):
    window = make_window()
    open_case(qtbot, window, sample_dir)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 30, 30)
    recorded_dialogs.close_answer = "cancel"
    assert not window.close() and window.isVisible()
    recorded_dialogs.close_answer = "save"
    assert window.close()
    assert window.session.case.store.annotation_path(0).exists() and not window.session.case.is_unsaved(0)


def test_close_keep_draft_stays_open_when_the_draft_cannot_be_written(qtbot, make_window, sample_dir, recorded_dialogs):
    window = make_window(autosave_ms=60_000)
    open_case(qtbot, window, sample_dir)
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 30, 30)
    autosave_dir = window.session.case.store.autosave_dir
    make_unwritable(autosave_dir)
    recorded_dialogs.close_answer = "keep"
    assert not window.close() and window.isVisible()  # closing now would lose the edit
    title, text = recorded_dialogs.messages[-1]
    assert title == "Cannot keep the unsaved work" and "stays open" in text
    if autosave_dir.is_file():
        autosave_dir.unlink()
    else:
        autosave_dir.chmod(0o755)
    assert window.close()
    assert window.session.case.store.autosave_path(0).exists()
