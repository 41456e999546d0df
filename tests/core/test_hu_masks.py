"""A scan in HU gives exactly the masks it gave before grey-value calibration and the scan's own bone level
(issue 19): the calibration leaves it bit for bit, and refinement's bone level stays 300 HU on it.

The masks before are stored (tests/core/data/hu_masks_before_calibration.npz, from main at ff54ded)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.model.model_file import starter_model
from tests.support.paths import SAMPLE_DIR, shared_path

BEFORE = np.load(Path(__file__).parent / "data" / "hu_masks_before_calibration.npz")


def _before(name: str) -> np.ndarray:
    shape = tuple(BEFORE[f"{name}_shape"])
    return np.unpackbits(BEFORE[name], count=int(np.prod(shape))).reshape(shape).astype(bool)


@pytest.fixture(scope="module")
def starter_segmenter():
    """The starter model as a Segmenter (the one prediction path)."""
    return Segmenter.from_file(starter_model())


@pytest.mark.slow
def test_the_bundled_sample_gives_exactly_the_masks_it_gave(starter_segmenter):
    volume = load_volume(SAMPLE_DIR)
    assert volume.calibration.in_hounsfield
    np.testing.assert_array_equal(starter_segmenter.predict_volume(volume) > 0, _before("sample"))


@pytest.mark.slow
@pytest.mark.shared
def test_the_development_head_refined_at_its_resolution_gives_exactly_the_masks_it_gave(starter_segmenter):
    volume = load_volume(shared_path("data", "cranium", "dicom"))
    block = list(range(84, 100))
    masks = {p.index: p.mask for p in starter_segmenter.predict(volume, block)}
    np.testing.assert_array_equal(np.stack([masks[i] for i in block]) > 0, _before("head_84_99"))
