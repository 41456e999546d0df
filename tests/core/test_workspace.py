"""Workspace and CaseStore: save and reopen, crash recovery from autosave, failed saves, imported labels."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess

import numpy as np
import PIL.Image
import pydicom
import pytest

import core.workspace.case_store as case_store_module
from core.annotation.slice_annotation import SliceAnnotation
from core.errors import InputError
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from core.io.slice_export import read_slice_mask
from core.workspace import CaseStore, SaveError, Workspace
from core.annotation.slice_status import SliceStatus
from tests.conftest import LABELME_CHECK, SAMPLE_DIR, shared_path

LABEL_PATH = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"


@pytest.fixture(scope="module")
def volume():
    return load_volume(SAMPLE_DIR)


@pytest.fixture
def workspace(tmp_path):
    return Workspace.create(tmp_path / "ws")


def reopen(workspace: Workspace, volume) -> CaseStore:
    """What the app does after a restart: a fresh Workspace object finds the case of the same CT."""
    return Workspace.open(workspace.root).add_case(volume, SAMPLE_DIR)


def brushed(volume, index: int, cx: float, cy: float) -> SliceAnnotation:
    ann = SliceAnnotation(*volume.shape[1:])
    ann.paint_disk(cx, cy, 6, 1, hu=volume.hu[index], hu_min=-300)
    return ann


def test_same_ct_opened_again_finds_its_case(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    assert workspace.add_case(volume, SAMPLE_DIR) is store
    reopened = Workspace.open(workspace.root)
    assert [r.case_id for r in reopened.cases()] == [store.case_id]
    assert [r.case_id for r in reopened.recent_cases()] == [store.case_id]
    assert reopened.case_for_source(SAMPLE_DIR).case_id == store.case_id
    moved = shutil.copytree(SAMPLE_DIR, workspace.root.parent / "moved_copy")  # same series, another folder
    assert reopened.add_case(volume, moved).case_id == store.case_id
    assert Workspace.open(workspace.root).case_for_source(moved).case_id == store.case_id
    record = reopened.cases()[0]
    assert record.display_name == "okbp_pt_224" and record.kind == "dicom" and record.num_slices == 128
    header = pydicom.dcmread(SAMPLE_DIR / "IM00000.dcm", stop_before_pixels=True)
    # case.json keeps the patient for the case list (local workspace data, decision 103); workspace.json does not
    assert record.patient.patient_id == str(header.PatientID) and record.patient.name == "OKBP, PT224"
    written = (workspace.root / "workspace.json").read_text()
    assert str(header.PatientName) not in written and str(header.PatientID) not in written


def test_open_a_folder_that_is_not_a_workspace_says_so(tmp_path):
    with pytest.raises(InputError, match="not a Mandible Studio workspace"):
        Workspace.open(tmp_path)


def test_save_then_reopen_restores_annotations_statuses_and_last_slice(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    annotations = {60: brushed(volume, 60, 64, 40), 61: brushed(volume, 61, 50, 50)}
    annotations[62] = SliceAnnotation(128, 128)
    annotations[62].set_predicted(annotations[61].mask)
    for index, status in ((60, SliceStatus.EDITED), (61, SliceStatus.REVIEWED), (62, SliceStatus.PREDICTED)):
        store.autosave(index, annotations[index], status)
    store.last_slice = 61
    result = store.save(volume, annotations)
    assert result.saved == [60, 61, 62] and store.dirty_indexes() == []
    assert not any(store.autosave_dir.glob("*.npz"))

    again = reopen(workspace, volume)
    assert again is not store and again.last_slice == 61
    loaded = again.load_annotations(volume.shape)
    assert sorted(loaded) == [60, 61, 62]
    for index in loaded:
        assert np.array_equal(loaded[index].mask, annotations[index].mask)
    assert again.statuses == {60: SliceStatus.EDITED, 61: SliceStatus.REVIEWED, 62: SliceStatus.PREDICTED}
    assert loaded[62].source == "predicted" and not loaded[62].edited.any()
    assert again.training_slices() == [60, 61]  # the prediction is not training data
    assert again.dirty_indexes() == []


def test_killed_app_gets_its_edits_back_from_autosave(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 70, 64, 30)
    store.save(volume, {70: ann}, [70])
    store.set_status(70, SliceStatus.EDITED)
    ann.paint_disk(20, 100, 4, 1)  # an edit after the save...
    store.autosave(70, ann, SliceStatus.REVIEWED)  # ...autosaved, then the app is killed: no save, no close

    again = reopen(workspace, volume)
    loaded = again.load_annotations()
    assert np.array_equal(loaded[70].mask, ann.mask) and np.array_equal(loaded[70].edited, ann.edited)
    assert again.status(70) is SliceStatus.REVIEWED and again.dirty_indexes() == [70]
    saved_mask, _ = read_slice_mask(again.annotation_path(70), 128, 128)
    assert saved_mask[100, 20] == 0  # the file on disk still has the old save until the user saves


def test_disk_full_during_save_raises_and_keeps_the_slice_unsaved(workspace, volume, monkeypatch):
    store = workspace.add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 50, 64, 40)
    store.autosave(50, ann, SliceStatus.EDITED)

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(SaveError, match="No space left on device") as info:
        store.save(volume, {50: ann})
    monkeypatch.undo()
    assert info.value.saved == [] and store.dirty_indexes() == [50]
    assert not store.annotation_path(50).exists() and store.autosave_path(50).exists()
    # Once there is space again the same save succeeds.
    assert store.save(volume, {50: ann}).saved == [50] and store.dirty_indexes() == []


def test_save_into_an_unwritable_folder_raises_and_keeps_the_slice_unsaved(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 55, 64, 40)
    store.mark_dirty(55)
    store.set_status(55, SliceStatus.EDITED)
    store.annotations_dir.write_text("a file where the folder should be")  # root cannot be blocked by chmod
    with pytest.raises(SaveError, match="could not save slice 56") as info:
        store.save(volume, {55: ann})
    assert "unsaved" in str(info.value) and store.is_dirty(55)
    assert reopen(workspace, volume).training_slices() == []


def test_a_slice_edited_while_it_is_being_saved_stays_unsaved(workspace, volume, monkeypatch):
    store = workspace.add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 40, 64, 40)
    store.autosave(40, ann, SliceStatus.EDITED)
    real_export = case_store_module.export_slice

    def export_while_user_edits(out_dir, index, *args, **kwargs):
        store.autosave(index, ann)  # the GUI thread autosaves a newer edit mid-save
        return real_export(out_dir, index, *args, **kwargs)

    monkeypatch.setattr(case_store_module, "export_slice", export_while_user_edits)
    assert store.save(volume, {40: ann.copy()}).saved == [40]
    assert store.dirty_indexes() == [40] and store.autosave_path(40).exists()


def test_imported_labels_edited_saved_and_reopened(workspace, volume):
    labels = load_nifti_labels(LABEL_PATH, volume)
    store = workspace.add_case(volume, SAMPLE_DIR)
    annotations = store.import_labels(labels)
    labelled = [i for i in range(128) if labels[i].any()]
    assert sorted(annotations) == labelled and store.dirty_indexes() == labelled
    assert all(store.status(i) is SliceStatus.EDITED for i in labelled)
    edit = annotations[62].paint_disk(100, 20, 4, 1)
    assert edit is not None
    store.save(volume, annotations)

    again = reopen(workspace, volume)
    loaded = again.load_annotations()
    assert loaded[62].mask[20, 100] == 1
    assert np.array_equal(loaded[62].mask, annotations[62].mask)
    assert np.array_equal(loaded[61].mask, labels[61])
    items = list(Workspace.open(workspace.root).training_items())
    assert [item.index for item in items] == labelled
    assert items[0].source == SAMPLE_DIR.resolve() and items[0].json_path.exists() and items[0].png_path.exists()


@pytest.mark.shared
def test_imported_shared_validation_label_for_its_nifti_ct(workspace):
    ct = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_201_0000.nii.gz")
    label_path = shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_201.nii.gz")
    volume = load_volume(ct)
    store = workspace.add_case(volume, ct)
    assert store.record.kind == "nifti" and store.record.display_name == "okbp_pt_201_0000"
    annotations = store.import_labels(load_nifti_labels(label_path, volume))
    first = min(annotations)
    annotations[first].paint_disk(5, 5, 2, 1)
    store.save(volume, annotations, [first])
    loaded = Workspace.open(workspace.root).add_case(volume, ct).load_annotations()
    assert first in loaded and loaded[first].mask[5, 5] == 1


def test_labels_for_another_scan_are_refused(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    with pytest.raises(InputError, match="choose the labels of this scan"):
        store.import_labels(np.zeros((10, 128, 128), np.uint8))


def test_unreadable_autosave_is_skipped_with_a_warning(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    store.autosave_dir.mkdir(parents=True, exist_ok=True)
    store.autosave_path(3).write_bytes(b"not a snapshot")
    again = reopen(workspace, volume)
    assert again.load_annotations() == {} and "slice 4" in again.load_warnings[0]


@pytest.mark.shared
def test_saved_json_opens_in_labelme(workspace, volume, tmp_path):
    if not LABELME_CHECK.exists():
        pytest.skip(f"needs {LABELME_CHECK} (../shared is not present in this checkout)")
    labels = load_nifti_labels(LABEL_PATH, volume)
    store = workspace.add_case(volume, SAMPLE_DIR)
    annotations = store.import_labels(labels)
    annotations[62].paint_disk(64, 64, 3, 0)  # an eraser hole through the bone
    annotations[62].paint_disk(100, 20, 4, 1)
    store.save(volume, annotations, [61, 62])
    masks = tmp_path / "masks"
    masks.mkdir()
    for index in (61, 62):
        PIL.Image.fromarray(annotations[index].mask * 255).save(masks / f"{index:04d}.png")
    paths = [str(store.annotation_path(i)) for i in (61, 62)]
    run = subprocess.run([str(LABELME_CHECK), "--masks", str(masks), *paths],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_slice_cleared_back_to_empty_loses_its_files_on_save(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 30, 64, 40)
    store.autosave(30, ann, SliceStatus.EDITED)
    store.save(volume, {30: ann})
    assert store.training_slices() == [30]
    ann.clear()
    store.autosave(30, ann, SliceStatus.EMPTY)
    result = store.save(volume, {30: ann, 31: SliceAnnotation(128, 128)}, [30, 31, 32])
    assert result.removed == [30] and result.skipped == [32]
    assert not store.annotation_path(30).exists() and not store.annotation_path(30).with_suffix(".png").exists()
    assert reopen(workspace, volume).load_annotations() == {} and store.training_slices() == []


def test_a_labelme_file_dropped_into_the_case_counts_as_human_work(workspace, volume):
    store = workspace.add_case(volume, SAMPLE_DIR)
    other = Workspace.create(workspace.root.parent / "other").add_case(volume, SAMPLE_DIR)
    ann = brushed(volume, 45, 64, 40)
    other.autosave(45, ann, SliceStatus.PREDICTED)
    other.save(volume, {45: ann})
    store.annotations_dir.mkdir(parents=True)
    for suffix in (".json", ".png"):
        path = other.annotation_path(45).with_suffix(suffix)
        (store.annotations_dir / path.name).write_bytes(path.read_bytes())
    loaded = reopen(workspace, volume).load_annotations()
    assert np.array_equal(loaded[45].mask, ann.mask) and loaded[45].source == "edited"
