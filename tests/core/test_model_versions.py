"""Model versions in a workspace: import/export with the safe format, activation that persists, rollback,
the starter model, and comparison of two models on the same validation slices."""
from __future__ import annotations

import shutil

import pytest
import torch

from core.errors import InputError, ModelFileError
from core.model.model_file import load_model, save_model
from core.model.unet import MandibleUNet
from core.evaluation import compare_models
from core.workspace.model_versions import ModelVersions
from tests.support.models import TINY


def write_model(path, seed: int):
    torch.manual_seed(seed)
    network = MandibleUNet(TINY)
    save_model(path, network, {"encoder_init": {"kind": "none", "source": "test"},
                               "validation": {"dice": 0.1 * seed, "miou": 0.5}})
    return path


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return [write_model(folder / f"m{seed}.msmodel", seed) for seed in (1, 2)]


@pytest.fixture
def versions(tmp_path):
    return ModelVersions(tmp_path / "models", starter_dir=tmp_path / "no-starter")


def test_import_lists_a_version_and_activation_persists(versions, model_files, tmp_path):
    assert versions.active() is None and versions.versions() == []
    first = versions.import_model(model_files[0])
    second = versions.import_model(model_files[1], name="second")
    assert [v.version_id for v in versions.versions()] == [first.version_id, second.version_id]
    assert first.metrics["dice"] == pytest.approx(0.1)
    assert load_model(second.model_path).sha256 == load_model(model_files[1]).sha256
    versions.activate(second.version_id)
    reopened = ModelVersions(tmp_path / "models", starter_dir=tmp_path / "no-starter")
    assert reopened.active().version_id == second.version_id
    assert reopened.active().label == "second"


def test_rollback_returns_to_the_previously_active_version(versions, model_files):
    a = versions.import_model(model_files[0])
    b = versions.import_model(model_files[1])
    with pytest.raises(InputError, match="no earlier"):
        versions.rollback()
    versions.activate(a.version_id)
    versions.activate(b.version_id)
    assert versions.rollback().version_id == a.version_id
    assert versions.active_id == a.version_id


def test_repeated_rollback_walks_back_through_the_history(versions, model_files):
    a, b, c = (versions.import_model(model_files[i % 2]) for i in range(3))
    for version in (a, b, c):
        versions.activate(version.version_id)
    assert versions.rollback().version_id == b.version_id
    assert versions.rollback().version_id == a.version_id  # not back to c
    assert not versions.can_rollback()


def test_tampered_or_foreign_files_are_refused_and_leave_nothing(versions, model_files, tmp_path):
    tampered = tmp_path / "tampered.msmodel"
    data = bytearray(model_files[0].read_bytes())
    data[-10] ^= 0xFF
    tampered.write_bytes(bytes(data))
    foreign = tmp_path / "foreign.msmodel"
    torch.save({"weight": torch.zeros(3)}, foreign)
    for path in (tampered, foreign):
        with pytest.raises(ModelFileError):
            versions.import_model(path)
    assert versions.versions() == []


def test_export_writes_the_same_model(versions, model_files, tmp_path):
    version = versions.import_model(model_files[0])
    out = versions.export_model(version.version_id, tmp_path)
    assert out.parent == tmp_path and out.suffix == ".msmodel"
    assert load_model(out).sha256 == load_model(model_files[0]).sha256


def test_trained_run_becomes_a_version_with_its_data_and_metrics(versions, model_files, tmp_path):
    run = tmp_path / "run.msmodel"
    shutil.copyfile(model_files[0], run)
    version = versions.add_trained(run, data={"cases": 2, "slices": 8}, metrics={"dice": 0.7, "miou": 0.8},
                                   comparison={"candidate": {"dice": 0.7}, "baseline": None})
    assert not run.exists() and version.model_path.exists()
    again = versions.get(version.version_id)
    assert again.origin == "trained" and again.data["slices"] == 8 and again.metrics["dice"] == 0.7
    assert again.model_info["encoder_init"]["kind"] == "none"
    assert versions.active() is None  # a new run is compared first, not activated behind the user's back


def test_starter_model_is_activated_only_when_there_is_no_version(tmp_path, model_files):
    starter = tmp_path / "bundled"
    starter.mkdir()
    shutil.copyfile(model_files[0], starter / "mandible-starter.msmodel")
    versions = ModelVersions(tmp_path / "models", starter_dir=starter)
    version = versions.ensure_starter()
    assert version.origin == "starter" and versions.active_id == version.version_id
    assert version.model_path == (starter / "mandible-starter.msmodel").resolve()  # used in place, not copied
    assert load_model(versions.active().model_path).sha256 == load_model(model_files[0]).sha256
    assert version.metrics == {"dice": 0.1, "miou": 0.5}  # as its file records them, shown in the Models panel
    assert versions.ensure_starter() is None
    assert ModelVersions(tmp_path / "other", starter_dir=tmp_path / "none").ensure_starter() is None


def test_a_starter_that_is_not_a_model_file_is_skipped_with_a_warning(tmp_path):
    starter = tmp_path / "bundled"
    starter.mkdir()
    (starter / "broken.msmodel").write_bytes(b"not a model")
    versions = ModelVersions(tmp_path / "models", starter_dir=starter)
    assert versions.ensure_starter() is None and versions.active() is None
    assert "starter model is not used" in versions.warnings[0]


def test_compare_measures_both_models_on_the_same_slices(model_files, tmp_path):
    from tests.support.cases import VALIDATION_CASES, add_labelled_case
    from core.training.workspace_data import gather_workspace_data
    from core.workspace import Workspace

    workspace = Workspace.create(tmp_path / "ws")
    for name in VALIDATION_CASES:
        add_labelled_case(workspace, name, keep=3)
    data = gather_workspace_data(workspace, tmp_path / "staged", val_fraction=0.5)
    result = compare_models(model_files[0], model_files[1], data.val_refs, device="cpu")
    assert result["slices"] == 3 and result["cases"] == [data.val_refs[0].name]
    assert set(result["candidate"]) >= {"dice", "miou", "acc"} and set(result["baseline"]) >= {"dice", "miou"}
    assert result["baseline"]["slices"] == result["candidate"]["slices"] == 3
    assert compare_models(model_files[0], None, [], device="cpu") is None
