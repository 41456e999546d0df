"""Workspace and CaseStore: the same CT finds its case, what a case folder holds is read back (foreign Labelme
files, unreadable or old drafts), saved slices open in Labelme, and saved human slices are training data."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import PIL.Image
import pydicom
import pytest

from core.workspace.edit_rules import Allow
from core.annotation.slice_annotation import SliceAnnotation
from core.errors import InputError
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from core.workspace import CaseStore, OpenCase, Workspace
from core.annotation.slice_status import SliceStatus
from tests.support.paths import LABELME_CHECK, SAMPLE_DIR, shared_path

LABEL_PATH = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"


def reopen(workspace: Workspace, sample_volume) -> CaseStore:
    """What the app does after a restart: a fresh Workspace object finds the case of the same CT."""
    return Workspace.open(workspace.root).add_case(sample_volume, SAMPLE_DIR)


def brushed(sample_volume, index: int, cx: float, cy: float) -> SliceAnnotation:
    ann = SliceAnnotation(*sample_volume.shape[1:])
    ann.paint_disk(cx, cy, 6, 1, hu=sample_volume.hu[index], hu_min=-300)
    return ann


def test_same_ct_opened_again_finds_its_case(workspace, sample_volume):
    store = workspace.add_case(sample_volume, SAMPLE_DIR)
    assert workspace.add_case(sample_volume, SAMPLE_DIR) is store
    reopened = Workspace.open(workspace.root)
    assert [r.case_id for r in reopened.cases()] == [store.case_id]
    assert [r.case_id for r in reopened.recent_cases()] == [store.case_id]
    moved = shutil.copytree(SAMPLE_DIR, workspace.root.parent / "moved_copy")  # same series, another folder
    assert reopened.add_case(sample_volume, moved).case_id == store.case_id
    assert Workspace.open(workspace.root).cases()[0].source == str(moved.resolve())  # it remembers the new place
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


@pytest.mark.shared
def test_imported_shared_validation_label_for_its_nifti_ct(workspace):
    ct = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_201_0000.nii.gz")
    label_path = shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_201.nii.gz")
    volume = load_volume(ct)
    store = workspace.add_case(volume, ct)
    assert store.record.kind == "nifti" and store.record.display_name == "okbp_pt_201_0000"
    case = OpenCase(volume, store)
    first = min(case.import_labels(load_nifti_labels(label_path, volume)))
    case.annotation(first).paint_disk(5, 5, 2, 1)
    case.save()
    loaded = Workspace.open(workspace.root).add_case(volume, ct).load()
    assert first in loaded.annotations and loaded.annotations[first].mask[5, 5] == 1


def test_unreadable_autosave_is_skipped_with_a_warning(workspace, sample_volume):
    store = workspace.add_case(sample_volume, SAMPLE_DIR)
    store.autosave_dir.mkdir(parents=True, exist_ok=True)
    store.autosave_path(3).write_bytes(b"not a snapshot")
    content = reopen(workspace, sample_volume).load()
    assert content.annotations == {} and "slice 4" in content.warnings[0]


@pytest.mark.process
@pytest.mark.shared
def test_saved_json_opens_in_labelme(workspace, sample_volume, tmp_path):
    if not LABELME_CHECK.exists():
        pytest.skip(f"needs {LABELME_CHECK} (../shared is not present in this checkout)")
    labels = load_nifti_labels(LABEL_PATH, sample_volume)
    case = OpenCase(sample_volume, workspace.add_case(sample_volume, SAMPLE_DIR))
    case.import_labels(labels * (np.arange(128) // 2 == 30)[:, None, None])  # slices 61 and 62 (0-based 60, 61)
    case.annotation(61).paint_disk(64, 64, 3, 0)  # an eraser hole through the bone
    case.annotation(61).paint_disk(100, 20, 4, 1)
    case.save()
    masks = tmp_path / "masks"
    masks.mkdir()
    for index in (60, 61):
        PIL.Image.fromarray(case.annotation(index).mask * 255).save(
            masks / case.store.annotation_path(index).with_suffix(".png").name)
    paths = [str(case.store.annotation_path(i)) for i in (60, 61)]
    run = subprocess.run([str(LABELME_CHECK), "--masks", str(masks), *paths],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_labelme_file_dropped_into_the_case_counts_as_human_work(workspace, sample_volume):
    store = workspace.add_case(sample_volume, SAMPLE_DIR)
    other = OpenCase(sample_volume, Workspace.create(workspace.root.parent / "other").add_case(sample_volume, SAMPLE_DIR))
    other.apply_prediction(45, brushed(sample_volume, 45, 64, 40).mask)
    other.save()
    store.annotations_dir.mkdir(parents=True)
    for suffix in (".json", ".png"):
        path = other.store.annotation_path(45).with_suffix(suffix)
        (store.annotations_dir / path.name).write_bytes(path.read_bytes())
    loaded = reopen(workspace, sample_volume).load()
    assert np.array_equal(loaded.annotations[45].mask, other.annotation(45).mask)
    assert loaded.annotations[45].source is SliceStatus.EDITED and loaded.statuses[45] is SliceStatus.EDITED


def test_a_draft_written_before_sources_were_statuses_still_opens(workspace, sample_volume):
    """Old drafts spelled an empty source "none"; they open as EMPTY with their status."""
    import io

    store = workspace.add_case(sample_volume, SAMPLE_DIR)
    buffer = io.BytesIO()
    blank = np.packbits(np.zeros((128, 128), bool))
    np.savez_compressed(buffer, mask=blank, edited=blank, shape=np.array((128, 128)), source=np.array("none"),
                        status=np.array("reviewed"))
    store.autosave_dir.mkdir(parents=True, exist_ok=True)
    store.autosave_path(9).write_bytes(buffer.getvalue())
    loaded = reopen(workspace, sample_volume).load()
    assert loaded.annotations[9].source is SliceStatus.EMPTY and loaded.statuses[9] is SliceStatus.REVIEWED


def test_saved_human_slices_of_every_case_are_the_training_items(workspace, sample_volume):
    labels = load_nifti_labels(LABEL_PATH, sample_volume)
    case = OpenCase(sample_volume, workspace.add_case(sample_volume, SAMPLE_DIR))
    labelled = case.import_labels(labels)
    case.apply_prediction(labelled[0], labels[labelled[0]], allow=Allow(human=True))  # a prediction is not training data
    case.save()
    items = list(Workspace.open(workspace.root).training_items())
    assert [item.index for item in items] == labelled[1:]
    assert items[0].source == SAMPLE_DIR.resolve() and items[0].json_path.exists() and items[0].png_path.exists()


def _layout1_case(workspace, sample_volume) -> CaseStore:
    """A case as it was written before slice files were numbered from 1: 0-based names, no layout in case.json."""
    case = OpenCase(sample_volume, workspace.add_case(sample_volume, SAMPLE_DIR))
    case.apply_prediction(0, brushed(sample_volume, 0, 64, 40).mask)
    case.annotation(63).paint_disk(64, 64, 5, 1)
    case.save()
    case.annotation(64).paint_disk(30, 30, 3, 1)
    case.write_drafts()
    store = case.store
    for folder in (store.annotations_dir, store.autosave_dir):  # rename back to 0-based, oldest first
        for path in sorted(folder.iterdir()):
            path.rename(path.with_name(f"{int(path.stem) - 1:04d}{path.suffix}"))
    for path in store.annotations_dir.glob("*.json"):
        text = path.read_text().replace(f'"imagePath": "{int(path.stem) + 1:04d}.png"', f'"imagePath": "{path.stem}.png"')
        path.write_text(text)
    record = (store.case_dir / "case.json").read_text().replace('"layout": 2', '"layout": 1')
    (store.case_dir / "case.json").write_text(record)
    return store


def test_a_case_saved_with_0_based_file_names_opens_with_slice_numbers(workspace, sample_volume):
    store = _layout1_case(workspace, sample_volume)
    assert sorted(p.name for p in store.annotations_dir.iterdir()) == ["0000.json", "0000.png", "0063.json", "0063.png"]
    case = OpenCase(sample_volume, Workspace.open(workspace.root).add_case(sample_volume, SAMPLE_DIR))
    assert sorted(p.name for p in case.store.annotations_dir.iterdir()) == [
        "0001.json", "0001.png", "0064.json", "0064.png"]
    assert [p.name for p in case.store.autosave_dir.iterdir()] == ["0065.npz"]
    assert case.statuses()[0] is SliceStatus.PREDICTED and case.status(63) is SliceStatus.EDITED
    assert case.annotation(63).mask[64, 64] == 1 and case.unsaved_indexes() == [64]
    assert case.annotation(64).mask[30, 30] == 1
    assert '"imagePath": "0064.png"' in case.store.annotation_path(63).read_text()  # Labelme still finds its image
    assert '"layout": 2' in (case.store.case_dir / "case.json").read_text()
    assert not list(case.store.case_dir.glob("*.layout*"))


def test_a_renaming_interrupted_before_case_json_was_written_starts_over(workspace, sample_volume, monkeypatch):
    from core.workspace import slice_numbering

    store = _layout1_case(workspace, sample_volume)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the app dies after the folders were swapped, before case.json says so

    monkeypatch.setattr(CaseStore, "write_record", killed)
    with pytest.raises(KeyboardInterrupt):
        CaseStore(store.case_dir)
    monkeypatch.undo()
    assert (store.case_dir / "annotations.layout1").is_dir()
    assert slice_numbering.SLICE_FILE_LAYOUT == 2
    case = OpenCase(sample_volume, CaseStore(store.case_dir))
    assert sorted(case.annotations) == [0, 63, 64] and case.annotation(63).mask[64, 64] == 1
    assert not list(case.store.case_dir.glob("*.layout*"))
