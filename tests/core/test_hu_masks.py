"""A scan in HU gives exactly the masks it gave before grey-value calibration and the scan's own bone level
(issue 19): the calibration leaves its values bit for bit, and refinement's bone level stays 300 HU on it.

"Before" is computed in the same run, on the same CPU and engine: the values as stored (no calibration) and
refinement's bone surface fixed at 300 HU, as the code was before issue 19. Masks stored from another machine
would not do: CPUs differ in the last bit of the network's output, which can move a pixel across a threshold."""
from __future__ import annotations

import numpy as np
import pytest

from core.calibration import BONE_HU
from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.model.model_file import starter_model
from tests.support.paths import SAMPLE_DIR, shared_path


@pytest.fixture(scope="module")
def starter_segmenter():
    """The starter model as a Segmenter (the one prediction path)."""
    return Segmenter.from_file(starter_model())


def _before_and_now(segmenter, path, monkeypatch, indexes=None):
    """The masks of `indexes` as the code gave them before issue 19, and as it gives them now."""
    now_volume = load_volume(path)
    before_volume = load_volume(path, calibration=None)
    assert now_volume.calibration.in_hounsfield
    np.testing.assert_array_equal(now_volume.hu, before_volume.hu)  # calibration leaves HU bit for bit
    now = {p.index: p.mask for p in segmenter.predict(now_volume, indexes)}
    with monkeypatch.context() as patch:  # before: refinement's bone surface at 300 HU, whatever the scan
        patch.setattr("core.inference.refine.bone_level", lambda values, default=BONE_HU: BONE_HU)
        before = {p.index: p.mask for p in segmenter.predict(before_volume, indexes)}
    order = sorted(before)
    assert sorted(now) == order and any(before[i].any() for i in order)
    return np.stack([before[i] for i in order]) > 0, np.stack([now[i] for i in order]) > 0


@pytest.mark.slow
def test_the_bundled_sample_gives_exactly_the_masks_it_gave(starter_segmenter, monkeypatch):
    before, now = _before_and_now(starter_segmenter, SAMPLE_DIR, monkeypatch, list(range(44, 76)))  # its jaw
    np.testing.assert_array_equal(now, before)


@pytest.mark.slow
@pytest.mark.shared
def test_the_development_head_refined_at_its_resolution_gives_exactly_the_masks_it_gave(starter_segmenter,
                                                                                       monkeypatch):
    before, now = _before_and_now(starter_segmenter, shared_path("data", "cranium", "dicom"), monkeypatch,
                                  list(range(84, 100)))
    np.testing.assert_array_equal(now, before)
