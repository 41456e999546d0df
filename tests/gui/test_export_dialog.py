"""The "Export 3-D…" dialog on the bundled sample: facts before saving, thumbnail, every save button."""
from __future__ import annotations

import highdicom as hd
import numpy as np
import pytest
import trimesh
from PySide6.QtCore import Qt

from core.export.case_folder import case_folder, owner_of
from core.io.nifti import load_nifti_labels, load_nifti_volume
from gui import export_dialog
from gui.export_dialog import ExportDialog
from tests.support.paths import shared_path


@pytest.fixture
def save_as(monkeypatch):
    """Answer the next file dialogs with the given paths; record what was suggested."""
    answers, suggested = [], []

    def get_save_file_name(parent, title, start, filters, *options):
        suggested.append(start)
        return str(answers.pop(0)), filters.split(";;")[0]

    monkeypatch.setattr(export_dialog.QFileDialog, "getSaveFileName", get_save_file_name)
    return answers, suggested


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(export_dialog.QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    return shown


def _open(qtbot, volume, labels, **kwargs) -> ExportDialog:
    dialog = ExportDialog(volume, labels, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _built(qtbot, volume, labels, **kwargs) -> ExportDialog:
    dialog = _open(qtbot, volume, labels, **kwargs)
    with qtbot.waitSignal(dialog.mesh_ready, timeout=30000):
        pass
    return dialog


def test_dialog_shows_volume_area_watertight_and_a_thumbnail(qtbot, sample_case):
    volume, labels = sample_case
    dialog = _built(qtbot, volume, labels)
    voxel_ml = labels.astype(bool).sum() * np.prod(volume.spacing) / 1000
    shown_ml = float(dialog.values["volume"].text().split()[0])
    assert abs(shown_ml - voxel_ml) / voxel_ml < 0.05
    assert dialog.values["area"].text().endswith("cm²") and float(dialog.values["area"].text().split()[0]) > 10
    assert dialog.values["watertight"].text() == "yes"
    assert int(dialog.values["faces"].text().replace(",", "")) == dialog.result.faces
    assert dialog.values["gaps"].text() == "none"
    image = dialog.thumbnail.pixmap().toImage()
    assert image.width() == export_dialog.THUMBNAIL_SIZE
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}
    assert len(colours) > 20, "the thumbnail should show a shaded mesh, not a flat background"
    assert dialog.buttons["mesh"].isEnabled() and dialog.buttons["dicom_seg"].isEnabled()


def test_rebuild_with_a_face_target(qtbot, sample_case):
    volume, labels = sample_case
    dialog = _built(qtbot, volume, labels)
    dialog.faces_spin.setValue(1500)
    with qtbot.waitSignal(dialog.mesh_ready, timeout=30000):
        qtbot.mouseClick(dialog.rebuild_button, Qt.MouseButton.LeftButton)
    assert dialog.result.faces <= 1575
    assert dialog.values["faces"].text().replace(",", "") == str(dialog.result.faces)


def test_save_buttons_write_mesh_nifti_and_dicom_seg(qtbot, sample_case, save_as, warnings, tmp_path):
    volume, labels = sample_case
    dialog = _built(qtbot, volume, labels, output_dir=tmp_path)
    answers, suggested = save_as
    answers += [tmp_path / "jaw.stl", tmp_path / "jaw.nii.gz", tmp_path / "jaw_seg.dcm"]
    for key in ("mesh", "nifti", "dicom_seg"):  # each file is written in a worker
        with qtbot.waitSignal(dialog.saved, timeout=120_000):
            qtbot.mouseClick(dialog.buttons[key], Qt.MouseButton.LeftButton)
    assert not warnings
    # suggested names never carry the patient's name or the series description
    assert [p.rsplit("/", 1)[1] for p in suggested] == ["mandible.stl", "mandible_labels.nii.gz", "mandible_seg.dcm"]
    mesh = trimesh.load(tmp_path / "jaw.stl")
    assert mesh.is_watertight and len(mesh.faces) == dialog.result.faces
    assert np.array_equal(load_nifti_labels(tmp_path / "jaw.nii.gz", volume), labels)
    seg = hd.seg.segread(tmp_path / "jaw_seg.dcm")
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == volume.series_uid
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=volume.sop_uids, segment_numbers=[1])
    assert np.array_equal(frames[..., 0], labels)
    assert "Saved jaw_seg.dcm" in dialog.status.text()


def test_unwritable_path_shows_a_message_and_writes_nothing(qtbot, sample_case, save_as, warnings, tmp_path):
    volume, labels = sample_case
    dialog = _built(qtbot, volume, labels)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    save_as[0].append(blocker / "mandible.stl")
    with qtbot.waitSignal(dialog.save_failed, timeout=30_000):
        qtbot.mouseClick(dialog.buttons["mesh"], Qt.MouseButton.LeftButton)
    assert len(warnings) == 1 and "is a file, not a folder" in warnings[0]
    assert "Cannot export" in dialog.status.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_empty_mask_is_refused_before_building(qtbot, sample_case):
    volume, labels = sample_case
    dialog = _open(qtbot, volume, np.zeros_like(labels))
    assert "is empty" in dialog.status.text()
    assert not dialog.rebuild_button.isEnabled()
    assert not any(button.isEnabled() for button in dialog.buttons.values())


def test_nifti_ct_offers_no_dicom_seg(qtbot):
    volume = load_nifti_volume(shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz"))
    labels = load_nifti_labels(shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_224.nii.gz"), volume)
    dialog = _built(qtbot, volume, labels)
    assert dialog.buttons["nifti"].isEnabled() and not dialog.buttons["dicom_seg"].isEnabled()
    assert "DICOM series" in dialog.buttons["dicom_seg"].toolTip()


def test_saving_starts_in_the_case_folder_and_replaces_a_file_only_when_asked_to(qtbot, sample_case, save_as,
                                                                                  recorded_dialogs, tmp_path):
    volume, labels = sample_case
    folder = case_folder(tmp_path / "exports", "okbp_pt_224-0123456789ab", "okbp_pt_224")
    dialog = _built(qtbot, volume, labels, folder=folder, case_name="okbp_pt_224")
    answers, suggested = save_as
    answers.append("")  # the user cancels the save dialog: no empty folder is left behind
    assert not dialog.save("nifti")
    assert suggested == [str(folder.path / "okbp_pt_224_labels.nii.gz")] and not folder.path.exists()
    target = folder.path / "okbp_pt_224_labels.nii.gz"
    answers.append(target)
    with qtbot.waitSignal(dialog.saved, timeout=60_000):
        assert dialog.save("nifti")
    assert owner_of(folder.path) == "okbp_pt_224-0123456789ab"  # the folder is the case's from now on
    before = target.read_bytes()
    answers.append(target)
    assert not dialog.save("nifti")  # the file is there: the user is asked, and says no
    assert len(recorded_dialogs.replace_asked) == 1 and str(folder.path) in recorded_dialogs.replace_asked[0]
    assert target.read_bytes() == before
    recorded_dialogs.replace_answer = True
    answers.append(target)
    with qtbot.waitSignal(dialog.saved, timeout=60_000):
        assert dialog.save("nifti")
    assert len(recorded_dialogs.replace_asked) == 2
