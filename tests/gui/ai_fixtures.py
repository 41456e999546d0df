"""Shared pieces of the AI GUI tests: tiny model files and a local resnet50 weights file. (GUI stalls are measured
by benchmarks/bench_jobs.py, never asserted in a test.)"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.support.models import write_biased_model


@pytest.fixture(scope="session")
def biased_models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("biased")
    return {"foreground": write_biased_model(folder / "all-mandible.msmodel", True),
            "background": write_biased_model(folder / "no-mandible.msmodel", False)}


@pytest.fixture(scope="session")
def resnet50_weights(tmp_path_factory) -> Path:
    """An untrained torchvision resnet50 state dict: a local weights file (ImageNet cannot be downloaded here)."""
    import torchvision

    path = tmp_path_factory.mktemp("weights") / "resnet50-untrained.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet50().state_dict(), path)
    return path


@pytest.fixture(autouse=True)
def no_bundled_starter(monkeypatch, tmp_path):
    """AI tests choose their models: an installed starter model (resources/models) is not registered."""
    from core.workspace import model_versions

    monkeypatch.setattr(model_versions, "bundled_models_dir", lambda: tmp_path / "no-bundled-models")
