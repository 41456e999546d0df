"""Training on real OpenKBP slices: the loss falls, and an interrupted run resumes the same schedule."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import Cancelled, TrainingError
from core.training.checkpoint import checkpoint_path
from core.training.config import TrainingConfig
from core.training.data import discover_cases, load_labelled_case, select_slices, split_cases
from core.training.slices import SliceSampling
from core.training.events import EpochDone, StepDone, TrainingDone
from core.training.trainer import run_training, train
from core.model.model_file import load_model
from tests.support.paths import shared_path
from tests.support.cases import nnunet_folder


def tiny_config(data: Path | list[Path], out: Path, **overrides) -> TrainingConfig:
    settings = dict(data=[str(p) for p in (data if isinstance(data, list) else [data])], out=str(out), epochs=4, freeze_epochs=2, batch_size=4, input_size=64,
                    init="none", lr=1e-3, lr_unfrozen=1e-3, device="cpu", val_fraction=0.34,
                    sampling=SliceSampling(near=1, far=0, max_per_case=4))
    settings.update(overrides)
    return TrainingConfig(**settings)


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
def test_tiny_run_lowers_the_loss_and_writes_a_complete_model_file(tmp_path):
    torch.set_num_threads(2)
    config = tiny_config(nnunet_folder(tmp_path / "data"), tmp_path / "m.msmodel", input_size=128)
    events = list(run_training(config))
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert [e.stage for e in epochs] == ["frozen", "frozen", "unfrozen", "unfrozen"]
    assert epochs[-1].loss < epochs[0].loss
    assert isinstance(events[-1], TrainingDone) and not checkpoint_path(config.out).exists()
    info = load_model(config.out).info
    assert info["training"]["cases"] == 2 and info["training"]["slices"] == 8
    assert info["encoder_init"]["kind"] == "none"
    assert 1 <= info["best_epoch"] <= 4 and "dice" in info["validation"]


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("finished_epochs", [1, 2], ids=["within-frozen-stage", "at-the-unfreezing-epoch"])
def test_a_cancelled_run_resumes_the_same_schedule(tmp_path, finished_epochs):
    data = nnunet_folder(tmp_path / "data")
    straight = tiny_config(data, tmp_path / "straight.msmodel")
    train(straight)
    config = tiny_config(data, tmp_path / "resumed.msmodel")
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        for event in run_training(config, cancel):
            if isinstance(event, EpochDone) and event.epoch + 1 == finished_epochs:
                cancel.set()
            assert not isinstance(event, StepDone) or event.epoch < finished_epochs  # stops within one step
    assert checkpoint_path(config.out).exists()
    resumed = [e for e in run_training(config) if isinstance(e, EpochDone)]
    stages = [(0, "frozen"), (1, "frozen"), (2, "unfrozen"), (3, "unfrozen")]
    assert [(e.epoch, e.stage) for e in resumed] == stages[finished_epochs:]
    history = load_model(config.out).info["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2, 3]
    expected = load_model(straight.out).network.state_dict()
    got = load_model(config.out).network.state_dict()
    assert all(torch.equal(expected[k], got[k]) for k in expected)  # same draws, same schedule


@pytest.mark.process
@pytest.mark.shared
def test_a_checkpoint_from_other_settings_is_not_resumed_silently(tmp_path):
    data = nnunet_folder(tmp_path / "data")
    config = tiny_config(data, tmp_path / "m.msmodel", epochs=2, freeze_epochs=1)
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        for event in run_training(config, cancel):
            if isinstance(event, EpochDone):
                cancel.set()
    with pytest.raises(TrainingError, match="--restart"):
        list(run_training(tiny_config(data, tmp_path / "m.msmodel", epochs=3, freeze_epochs=1)))


@pytest.mark.shared
def test_split_is_by_case_and_slices_are_mandible_plus_near_and_far_empty_ones(tmp_path):
    refs = discover_cases([nnunet_folder(tmp_path / "data")])
    train_refs, val_refs = split_cases(refs, 0.34)
    assert len(val_refs) == 1 and not {r.name for r in train_refs} & {r.name for r in val_refs}
    case = load_labelled_case(refs[0])
    rows = select_slices(case, near=3, far=2)
    has_mandible = case.labels.reshape(len(case.labels), -1).any(axis=1)
    first, last = np.flatnonzero(has_mandible)[[0, -1]]
    assert set(np.flatnonzero(has_mandible)) <= set(rows)
    assert set(range(first - 3, last + 4)) <= set(rows)
    assert len(rows) == (last - first + 1) + 6 + 2


@pytest.mark.process
@pytest.mark.shared
def test_labelme_folders_and_nnunet_folders_train_together(tmp_path):
    from core.io.labels import load_labels
    from core.io.loader import load_volume
    from core.io.slice_export import export_volume
    from core.windowing import WINDOW_PRESETS

    source = shared_path("data", "openkbp", "train")
    volume = load_volume(source / "imagesTr" / "okbp_pt_6_0000.nii.gz")
    labels = load_labels(source / "labelsTr" / "okbp_pt_6.nii.gz", volume)
    export_volume(tmp_path / "labelme" / "pt6", volume, labels, WINDOW_PRESETS["bone"])
    nnunet = nnunet_folder(tmp_path / "nnunet", cases=("okbp_pt_1", "okbp_pt_2"))

    refs = discover_cases([nnunet, tmp_path / "labelme"])
    assert sorted(r.kind for r in refs) == ["labelme", "nnunet", "nnunet"]
    case = load_labelled_case(next(r for r in refs if r.kind == "labelme"))
    assert case.volume.units == "HU" and case.volume.spacing[1:] == pytest.approx(volume.spacing[1:])
    row = int(case.slice_numbers[len(case.slice_numbers) // 2])
    original = volume.hu[row].astype(float)
    inside = (original > -450) & (original < 1250)  # inside the bone window: HU comes back
    restored = case.volume.hu[len(case.slice_numbers) // 2]
    assert np.abs(restored[inside] - original[inside]).max() <= 1800 / 255
    np.testing.assert_array_equal(case.labels[len(case.slice_numbers) // 2], labels[row])

    config = tiny_config([nnunet, tmp_path / "labelme"], tmp_path / "m.msmodel", epochs=1, freeze_epochs=1)
    assert isinstance(list(run_training(config))[-1], TrainingDone)
    assert load_model(config.out).info["training"]["cases"] == 2  # 3 cases, one held out
