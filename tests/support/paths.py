"""Where the tests find the project, the bundled sample and ../shared."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SAMPLE_DIR = ROOT / "resources" / "samples" / "okbp_pt_224"
SAMPLE_LABEL = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"
LABELME_CHECK = SHARED / "tools" / "labelme-check"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; the calling test skips with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not present in this checkout)")
    return path


def validation_label_path(case: str) -> Path:
    """The clinical mandible label of a shared OpenKBP validation case (skips when ../shared is absent)."""
    return shared_path("data", "openkbp", "validation", "labelsTr", f"{case}.nii.gz")
