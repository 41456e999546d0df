"""The workspace as training data: only edited/reviewed slices (saved or autosaved), exact HU, split by case."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import TrainingError
from core.training.data import discover_cases, load_labelled_case, split_cases
from core.training.workspace_data import gather_workspace_data, load_staged, training_inventory
from core.workspace import Workspace
from tests.support.cases import VALIDATION_CASES, add_labelled_case


@pytest.fixture
def labelled_workspace(tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    cases = {name: add_labelled_case(workspace, name, keep=4) for name in VALIDATION_CASES}
    return workspace, cases


def test_only_saved_human_slices_are_staged_with_exact_hu(labelled_workspace, tmp_path):
    workspace, cases = labelled_workspace
    case, volume, labels, chosen = cases["okbp_pt_201"]
    store = case.store
    predicted = max(chosen) + 1  # a saved prediction is not training data
    case.apply_prediction(predicted, labels[predicted])
    case.save()
    assert store.annotation_path(predicted).exists()

    data = gather_workspace_data(workspace, tmp_path / "staged", val_fraction=0.5, seed=0)

    assert data.num_cases == 2 and data.num_slices == 8
    assert data.slices[store.case_id] == chosen
    case = load_labelled_case(next(r for r in data.train_refs + data.val_refs if r.name == store.case_id))
    assert np.array_equal(case.volume.hu, volume.hu[chosen].astype(np.int16))
    assert np.array_equal(case.labels, (labels[chosen] > 0).astype(np.uint8))
    assert {cid: len(items) for cid, items in training_inventory(workspace).by_case().items()} == {
        cid: 4 for cid in data.slices}
    again = load_staged(data.folder, 0.5, 0)  # resuming uses exactly the same slices and split
    assert again.slices == data.slices and [r.name for r in again.val_refs] == [r.name for r in data.val_refs]


def test_split_is_by_case_and_is_the_trainers_split(labelled_workspace, tmp_path):
    workspace, _ = labelled_workspace
    data = gather_workspace_data(workspace, tmp_path / "staged", val_fraction=0.5, seed=3)
    assert len(data.train_refs) == 1 and len(data.val_refs) == 1
    assert {r.name for r in data.train_refs}.isdisjoint({r.name for r in data.val_refs})
    config = data.training_config(tmp_path / "m.msmodel", epochs=2, freeze_epochs=1)
    train, val = split_cases(discover_cases(config.data), config.val_fraction, config.seed)
    assert [r.name for r in val] == [r.name for r in data.val_refs]
    summary = data.summary()
    assert summary["slices"] == 8 and list(summary["validation"]) == [data.val_refs[0].name]


def test_no_training_data_says_what_to_do(tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    with pytest.raises(TrainingError, match="edited or reviewed"):
        gather_workspace_data(workspace, tmp_path / "staged")


def test_case_whose_ct_moved_is_left_out_with_a_warning(labelled_workspace, tmp_path):
    workspace, cases = labelled_workspace
    cases["okbp_pt_202"][0].store.relocate(tmp_path / "gone.nii.gz")
    data = gather_workspace_data(workspace, tmp_path / "staged")
    assert list(data.slices) == [cases["okbp_pt_201"][0].store.case_id]
    assert len(data.warnings) == 1 and "no longer" in data.warnings[0]


def test_autosaved_work_trains_with_its_newest_mask_and_unwritten_work_does_not(labelled_workspace, tmp_path):
    """A slice shown as done that was only autosaved is used (with the autosaved mask, not the older saved
    one); a slice whose status says edited but whose work never reached the disk is not."""
    workspace, cases = labelled_workspace
    case, volume, labels, chosen = cases["okbp_pt_201"]
    store = case.store
    unsaved = max(chosen) + 1  # edited, but its draft never reached the disk
    autosaved = max(chosen) + 2
    newer = np.zeros(volume.shape[1:], np.uint8)
    newer[10:20, 10:30] = 1
    drafted = np.zeros(volume.shape, np.uint8)
    drafted[[autosaved, chosen[0]]] = newer
    case.import_labels(drafted)
    case.write_drafts()
    only_status = np.zeros(volume.shape, np.uint8)
    only_status[unsaved] = newer
    case.import_labels(only_status)
    case.flush()  # case.json says EDITED; no draft and no saved file
    assert store.draft_indexes() == sorted([autosaved, chosen[0]])

    inventory = training_inventory(Workspace.open(workspace.root))
    mine = inventory.by_case()[store.case_id]
    assert [item.index for item in mine] == sorted(chosen + [autosaved]) and unsaved not in [i.index for i in mine]
    assert inventory.autosaved == 2

    data = gather_workspace_data(Workspace.open(workspace.root), tmp_path / "staged", val_fraction=0.0)
    case = load_labelled_case(next(r for r in data.train_refs if r.name == store.case_id))
    rows = data.slices[store.case_id]
    assert np.array_equal(case.labels[rows.index(autosaved)], newer)
    assert np.array_equal(case.labels[rows.index(chosen[0])], newer)  # the autosave is newer than the save
    assert np.array_equal(case.labels[rows.index(chosen[1])], (labels[chosen[1]] > 0).astype(np.uint8))
