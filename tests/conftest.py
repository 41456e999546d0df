"""Fixtures every test may use: the bundled sample as a folder, a Volume, and a Volume with its clinical label.
Helpers that tests import live in tests/support/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch (OpenMP) thread per test process, and in the processes it starts: its intra-op threads spin while
# they wait, and on a 2-core machine shared with other work two of them made a tiny network's test 20 times
# slower (docs/decisions/195). Results do not depend on it; the app sets its own.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from tests.support.paths import SAMPLE_DIR, SAMPLE_LABEL  # noqa: E402  (after the environment is set)


@pytest.fixture
def sample_dir() -> Path:
    """The bundled sample case's DICOM folder (OpenKBP pt_224)."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    return SAMPLE_DIR


@pytest.fixture(scope="module")
def sample_volume():
    """The bundled sample CT as a Volume."""
    from core.io.loader import load_volume

    if not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    return load_volume(SAMPLE_DIR)


@pytest.fixture(scope="module")
def sample_case(sample_volume):
    """The bundled sample CT and its clinical mandible label: (Volume, uint8 labels [slice, row, col])."""
    from core.io.nifti import load_nifti_labels

    if not SAMPLE_LABEL.is_file():
        pytest.skip("the bundled sample's label resources/samples/okbp_pt_224_label.nii.gz is missing")
    return sample_volume, load_nifti_labels(SAMPLE_LABEL, sample_volume)
