"""Shared test set-up: offscreen Qt, paths to ../shared and to the bundled sample."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch (OpenMP) thread per test process, and in the processes it starts: its intra-op threads spin while
# they wait, and on a 2-core machine shared with other work two of them made a tiny network's test 30 times
# slower (12 s instead of 0.4 s, docs/decisions/195). Results do not depend on it; the app sets its own.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
