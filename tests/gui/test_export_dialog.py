"""The "Export 3-D…" dialog on the bundled sample: facts before saving, thumbnail, every save button."""
from __future__ import annotations

import highdicom as hd
import numpy as np
import pytest
import trimesh
from PySide6.QtCore import Qt

from core.io.nifti import load_nifti_labels, load_nifti_volume
from gui import export_dialog
from gui.export_dialog import ExportDialog
from tests.conftest import shared_path

@pytest.fixture
def save_as(monkeypatch):
    """Answer the next file dialogs with the given paths; record what was suggested."""
    answers, suggested = [], []

    def get_save_file_name(parent, title, start, filters):
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


def test_dialog_shows_volume_area_watertight_and_a_thumbnail(qtbot, sample):
    volume, labels = sample
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
    assert dialog.save_mesh_button.isEnabled() and dialog.save_seg_button.isEnabled()


def test_rebuild_with_a_face_target(qtbot, sample):
    volume, labels = sample
    dialog = _built(qtbot, volume, labels)
    dialog.faces_spin.setValue(1500)
    with qtbot.waitSignal(dialog.mesh_ready, timeout=30000):
        qtbot.mouseClick(dialog.rebuild_button, Qt.MouseButton.LeftButton)
    assert dialog.result.faces <= 1575
    assert dialog.values["faces"].text().replace(",", "") == str(dialog.result.faces)


def test_save_buttons_write_mesh_nifti_and_dicom_seg(qtbot, sample, save_as, warnings, tmp_path):
    volume, labels = sample
    dialog = _built(qtbot, volume, labels, output_dir=tmp_path)
    answers, suggested = save_as
    answers += [tmp_path / "jaw.stl", tmp_path / "jaw.nii.gz", tmp_path / "jaw_seg.dcm"]
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.mouseClick(dialog.save_mesh_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_nifti_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.saved, timeout=120_000):  # the DICOM SEG is written in a worker
        qtbot.mouseClick(dialog.save_seg_button, Qt.MouseButton.LeftButton)
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


def test_unwritable_path_shows_a_message_and_writes_nothing(qtbot, sample, save_as, warnings, tmp_path):
    volume, labels = sample
    dialog = _built(qtbot, volume, labels)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    save_as[0].append(blocker / "mandible.stl")
    qtbot.mouseClick(dialog.save_mesh_button, Qt.MouseButton.LeftButton)
    assert len(warnings) == 1 and "is a file, not a folder" in warnings[0]
    assert "Cannot export" in dialog.status.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_empty_mask_is_refused_before_building(qtbot, sample):
    volume, labels = sample
    dialog = _open(qtbot, volume, np.zeros_like(labels))
    assert "is empty" in dialog.status.text()
    assert not dialog.rebuild_button.isEnabled()
    assert not any(b.isEnabled() for b in (dialog.save_mesh_button, dialog.save_nifti_button, dialog.save_seg_button))


def test_nifti_ct_offers_no_dicom_seg(qtbot):
    volume = load_nifti_volume(shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_224_0000.nii.gz"))
    labels = load_nifti_labels(shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_224.nii.gz"), volume)
    dialog = _built(qtbot, volume, labels)
    assert dialog.save_nifti_button.isEnabled() and not dialog.save_seg_button.isEnabled()
    assert "DICOM series" in dialog.save_seg_button.toolTip()
