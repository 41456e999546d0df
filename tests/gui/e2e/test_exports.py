"""Files where the user wants them (issue 13, items 4 and 16): Export 3-D starts in a visible folder the user
chose before (else Documents or home), names files after the case, says the full path and opens the folder;
its preview shows the whole mandible; "Export Labelme Dataset…" writes the saved slices, PNG beside JSON, in a
form Labelme reads, into the case's own folder, never mixing two cases (issue 18 B)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from PySide6.QtWidgets import QMessageBox

from core.app_paths import sample_label_path
from core.io.mesh_preview import BACKGROUND_RGB
from core.io.slice_export import export_volume
from core.windowing import WINDOW_PRESETS
from gui import case_exports, dialogs, export_dialog
from tests.support.paths import LABELME_CHECK, SAMPLE_DIR, shared_path
from tests.support.window import open_case

pytestmark = pytest.mark.skipif(not SAMPLE_DIR.is_dir(), reason="the bundled sample resources/samples/okbp_pt_224 "
                                                                 "is missing")
BUILD_TIMEOUT_MS = 120_000


@pytest.fixture
def labelled_window(qtbot, make_window):
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    with qtbot.waitSignal(window.labels_imported, timeout=60_000):
        window.import_labels(sample_label_path())
    return window


@pytest.fixture
def opened_folders(monkeypatch) -> list[str]:
    opened = []
    monkeypatch.setattr(dialogs.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    return opened


def _built_dialog(qtbot, window):
    window.actions.export_3d.trigger()
    dialog = window.exports.export_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=BUILD_TIMEOUT_MS)
    return dialog


def test_export_3d_starts_in_a_visible_folder_and_names_files_after_the_case(qtbot, labelled_window, tmp_path,
                                                                              monkeypatch, opened_folders):
    window = labelled_window
    suggested = []
    chosen = tmp_path / "prints"
    chosen.mkdir()

    def save_as(parent, title, start, filters, *options):
        suggested.append(start)
        return str(chosen / start.rsplit("/", 1)[1]), filters

    monkeypatch.setattr(export_dialog.QFileDialog, "getSaveFileName", save_as)
    dialog = _built_dialog(qtbot, window)
    with qtbot.waitSignal(dialog.saved, timeout=30_000):
        dialog.buttons["mesh"].click()
    first = suggested[0]
    assert first.rsplit("/", 1)[0] == str(case_exports.default_export_folder() / "okbp_pt_224")  # the case's folder
    assert str(window.workspace.root) not in first  # never the hidden workspace
    assert first.endswith("/okbp_pt_224.stl")
    written = chosen / "okbp_pt_224.stl"
    assert written.is_file()
    message = dialog.saved_message
    assert str(written) in message.text()  # the full path: folder and file
    open_button = next(b for b in message.buttons() if b.text() == "Open Folder")
    open_button.click()
    assert opened_folders == [str(chosen)]
    dialog.reject()

    dialog = _built_dialog(qtbot, window)  # the next export starts where the last one went
    with qtbot.waitSignal(dialog.saved, timeout=30_000):
        dialog.buttons["nifti"].click()
    assert suggested[-1] == str(chosen / "okbp_pt_224" / "okbp_pt_224_labels.nii.gz")
    dialog.reject()


def test_dicom_seg_is_written_off_the_gui_thread(qtbot, labelled_window, tmp_path, monkeypatch):
    window = labelled_window
    target = tmp_path / "seg.dcm"
    monkeypatch.setattr(export_dialog.QFileDialog, "getSaveFileName", lambda *a: (str(target), ""))
    dialog = _built_dialog(qtbot, window)
    with qtbot.waitSignal(dialog.saved, timeout=BUILD_TIMEOUT_MS) as saved:
        assert dialog.save("dicom_seg")
        assert not target.exists() and not dialog.buttons["dicom_seg"].isEnabled()  # returned before writing
    assert saved.args == [str(target)] and target.is_file()
    dialog.reject()


def test_the_preview_shows_the_whole_mandible_after_keeping_the_largest_part(qtbot, labelled_window):
    dialog = _built_dialog(qtbot, labelled_window)
    dialog.largest_check.setChecked(True)
    with qtbot.waitSignal(dialog.mesh_ready, timeout=BUILD_TIMEOUT_MS):
        dialog.rebuild_button.click()
    image = dialog.thumbnail.pixmap().toImage()
    size = image.width()
    border = [image.pixelColor(x, y).getRgb()[:3] for x in range(size) for y in (0, 1, size - 2, size - 1)]
    border += [image.pixelColor(x, y).getRgb()[:3] for y in range(size) for x in (0, 1, size - 2, size - 1)]
    assert set(border) == {BACKGROUND_RGB}, "the mandible touches the preview's edge: it is clipped"
    dialog.reject()


@pytest.mark.process
def test_export_labelme_dataset_writes_the_saved_slices_beside_their_images(qtbot, labelled_window, tmp_path,
                                                                            monkeypatch, opened_folders):
    window = labelled_window
    case = window.session.case
    window.save_now()
    labelled = [i for i in range(case.num_slices) if case.found_mandible(i)]
    chosen = tmp_path / "dataset"
    chosen.mkdir()
    out = chosen / "okbp_pt_224"  # the case's own folder in the chosen one
    monkeypatch.setattr(case_exports.QFileDialog, "getExistingDirectory", lambda *a: str(chosen))
    with qtbot.waitSignal(window.exports.dataset_exported, timeout=BUILD_TIMEOUT_MS) as done:
        window.actions.export_labelme.trigger()
    assert done.args == [str(out), len(labelled)]
    jsons = sorted(p.name for p in out.glob("*.json"))
    assert jsons == [f"{i + 1:04d}.json" for i in labelled]
    for name in jsons:
        data = json.loads((out / name).read_text())
        assert data["imagePath"] == name.replace(".json", ".png") and (out / data["imagePath"]).is_file()
    message = next(w for w in window.findChildren(QMessageBox) if w.objectName() == "savedMessage")
    assert str(out) in message.text() and f"Wrote {len(labelled)} slice(s)" in message.text()
    index = labelled[len(labelled) // 2]
    expected = tmp_path / "expected"
    expected.mkdir()
    PIL.Image.fromarray(case.annotation(index).mask.astype(np.uint8) * 255).save(expected / f"{index + 1:04d}.png")
    shared_path("tools", "labelme-check")
    checked = subprocess.run([str(LABELME_CHECK), "--masks", str(expected), str(out / f"{index + 1:04d}.json")],
                             capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    whole = subprocess.run([str(LABELME_CHECK), str(out)], capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0 and json.loads(whole.stdout.strip().splitlines()[-1])["failed"] == 0


def test_export_labelme_dataset_says_when_nothing_is_saved(qtbot, make_window, recorded_dialogs, monkeypatch):
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    asked = []
    monkeypatch.setattr(case_exports.QFileDialog, "getExistingDirectory", lambda *a: asked.append(a) or "")
    assert not window.exports.export_labelme_dataset()
    assert not asked and recorded_dialogs.messages[-1][0] == "Nothing to export"


def test_ctrl_s_says_the_full_path_and_offers_its_folder(qtbot, labelled_window, opened_folders):
    window = labelled_window
    folder = window.session.case.store.annotations_dir
    assert window.open_saved_folder.isHidden()
    with qtbot.waitSignal(window.saved, timeout=BUILD_TIMEOUT_MS):
        assert window.save_case()
    assert str(folder) in window.statusBar().currentMessage()
    assert window.open_saved_folder.isVisible() and str(folder) in window.open_saved_folder.toolTip()
    window.open_saved_folder.click()
    assert opened_folders == [str(folder)]


def test_two_cases_exported_into_one_folder_never_mix(qtbot, labelled_window, sample_case, tmp_path, monkeypatch,
                                                      recorded_dialogs):
    """Issue 18 B as written: one case's Labelme dataset, then another patient's, exported into the same folder.
    Each lands in a folder of its own (here both scans come from folders of the same name, as every CD's
    "DICOM" does), nothing of the first is replaced, and exporting a case again asks before replacing."""
    window = labelled_window
    window.save_now()
    chosen = tmp_path / "exports"
    chosen.mkdir()
    monkeypatch.setattr(case_exports.QFileDialog, "getExistingDirectory", lambda *a: str(chosen))
    with qtbot.waitSignal(window.exports.dataset_exported, timeout=BUILD_TIMEOUT_MS) as first:
        window.actions.export_labelme.trigger()
    first_folder = Path(first.args[0])
    first_files = {p.name: p.read_bytes() for p in first_folder.iterdir()}

    volume, labels = sample_case  # the other patient: another mandible, in a folder of the same name
    other = tmp_path / "cd2" / "okbp_pt_224"
    export_volume(other, volume, np.roll(labels, 9, axis=2), WINDOW_PRESETS["bone"])
    open_case(qtbot, window, other)
    window.save_now()
    other_store = window.session.case.store
    with qtbot.waitSignal(window.exports.dataset_exported, timeout=BUILD_TIMEOUT_MS) as second:
        window.actions.export_labelme.trigger()
    second_folder, count = Path(second.args[0]), second.args[1]
    assert second_folder.parent == chosen and second_folder != first_folder
    assert {p.name: p.read_bytes() for p in first_folder.iterdir()} == first_files  # the first patient untouched
    jsons = sorted(p.name for p in second_folder.glob("*.json"))
    assert len(jsons) == count and all(
        (second_folder / name).read_bytes() == (other_store.annotations_dir / name).read_bytes() for name in jsons)
    message = [w for w in window.findChildren(QMessageBox) if w.objectName() == "savedMessage"][-1]
    assert str(second_folder) in message.text()

    recorded_dialogs.replace_answer = False  # the same case again: asked first, and "no" changes nothing
    assert not window.exports.export_labelme_dataset()
    assert len(recorded_dialogs.replace_asked) == 1 and str(second_folder) in recorded_dialogs.replace_asked[0]
    recorded_dialogs.replace_answer = True
    with qtbot.waitSignal(window.exports.dataset_exported, timeout=BUILD_TIMEOUT_MS) as again:
        assert window.exports.export_labelme_dataset()
    assert again.args == [str(second_folder), count] and len(recorded_dialogs.replace_asked) == 2
    assert {p.name: p.read_bytes() for p in first_folder.iterdir()} == first_files
