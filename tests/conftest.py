"""Shared test set-up: offscreen Qt, paths to ../shared and to the bundled sample."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE_DIR = ROOT / "resources" / "samples" / "okbp_pt_224"
LABELME_CHECK = SHARED / "tools" / "labelme-check"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; the calling test skips with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not present in this checkout)")
    return path


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE_DIR
