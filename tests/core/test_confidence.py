"""Per-slice confidence: 1 minus the share of the mandible band the model is unsure about."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from core.inference.confidence import slice_confidence
from core.inference.segmenter import Segmenter
from tests.support.paths import shared_path


def test_a_crisp_outline_scores_higher_than_a_blurred_one_and_no_mandible_is_certain():
    crisp = np.zeros((64, 64), np.float32)
    crisp[20:40, 10:50] = 0.99
    blurred = ndimage.gaussian_filter(crisp, 4)
    assert slice_confidence(crisp) == 1.0
    assert 0.0 < slice_confidence(blurred) < 0.8
    assert slice_confidence(np.full((64, 64), 0.02, np.float32)) == 1.0  # sure there is nothing
    assert slice_confidence(np.full((64, 64), 0.5, np.float32)) == 0.0  # unsure everywhere


@pytest.mark.shared
@pytest.mark.slow
def test_on_real_slices_the_confident_ones_are_segmented_better(dicom_case):
    """okbp_pt_201 with the reference model: the third of the mandible slices the model is surest about has a
    clearly higher Dice against the clinical contour than the third it is least sure about."""
    volume, labels = dicom_case
    segmenter = Segmenter.from_file(shared_path("models", "okbp128_gpu36.msmodel"))
    labelled = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
    results = {p.index: p for p in segmenter.predict(volume, range(labelled[0], labelled[-1] + 1))}
    scored = []
    for index, prediction in results.items():
        truth, mask = labels[index] > 0, prediction.mask > 0
        dice = 2 * (truth & mask).sum() / max(1, truth.sum() + mask.sum())
        scored.append((prediction.confidence, dice))
    scored.sort()
    third = len(scored) // 3
    least, most = np.mean([d for _, d in scored[:third]]), np.mean([d for _, d in scored[-third:]])
    print(f"{len(scored)} slices: mean Dice {least:.3f} for the least certain third, {most:.3f} for the surest")
    assert most > least + 0.1
