"""Stacking per-slice masks into a label volume: status choice, gaps, gap filling, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from core.annotation.label_volume import (assemble_label_volume, fill_gap_slices, find_gaps, require_geometry,
                                          require_labels, slice_ranges)
from core.errors import ExportError
from core.io.nifti import load_nifti_labels, load_nifti_volume
from core.volume import Volume
from core.annotation.slice_status import SliceStatus
from tests.support.paths import shared_path


@pytest.fixture(scope="module")
def validation_case():
    images = shared_path("data", "openkbp", "validation", "imagesTr", "okbp_pt_202_0000.nii.gz")
    volume = load_nifti_volume(images)
    labels = load_nifti_labels(shared_path("data", "openkbp", "validation", "labelsTr", "okbp_pt_202.nii.gz"), volume)
    return volume, labels


def _annotated(labels: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(labels.any(axis=(1, 2)))]


def test_only_the_chosen_statuses_go_into_the_volume(validation_case):
    volume, labels = validation_case
    slices = _annotated(labels)
    statuses = {i: (SliceStatus.PREDICTED if n % 2 else SliceStatus.REVIEWED) for n, i in enumerate(slices)}
    masks = {i: labels[i] for i in slices}
    reviewed = assemble_label_volume(volume, masks, statuses, include=[SliceStatus.REVIEWED, SliceStatus.EDITED])
    assert list(reviewed.used_slices) == slices[::2]
    assert reviewed.labels.shape == volume.shape
    assert np.array_equal(reviewed.labels[slices[0]], labels[slices[0]])
    assert not reviewed.labels[slices[1]].any()
    # every other slice is missing: those inside the mandible are reported as gaps
    assert list(reviewed.gaps) == slices[1:-1:2]
    everything = assemble_label_volume(volume, masks, statuses)
    assert np.array_equal(everything.labels, labels) and everything.gaps == ()


def test_gap_filling_interpolates_between_neighbouring_slices(validation_case):
    volume, labels = validation_case
    slices = _annotated(labels)
    holed = labels.copy()
    removed = slices[10:13]
    holed[removed] = 0
    assert find_gaps(holed) == removed
    assembly = assemble_label_volume(volume, {i: holed[i] for i in slices}, fill_gaps=True)
    assert assembly.gaps == tuple(removed) and assembly.filled == tuple(removed)
    for index in removed:
        truth, filled = labels[index] > 0, assembly.labels[index] > 0
        dice = 2 * (truth & filled).sum() / (truth.sum() + filled.sum())
        assert dice > 0.7, f"slice {index}: interpolated mask far from the clinical contour (Dice {dice:.2f})"
    # slices that had masks are kept as they were
    kept = [i for i in slices if i not in removed]
    assert np.array_equal(assembly.labels[kept], labels[kept])


def test_gap_between_identical_discs_is_the_same_disc():
    yy, xx = np.mgrid[:40, :40]
    disc = ((yy - 20) ** 2 + (xx - 18) ** 2 < 100).astype(np.uint8)
    labels = np.zeros((5, 40, 40), np.uint8)
    labels[0] = labels[4] = disc
    filled = fill_gap_slices(labels, (1.0, 1.0))
    for index in (1, 2, 3):
        assert np.array_equal(filled[index], disc)


def test_slice_ranges_are_readable():
    assert slice_ranges([9, 3, 4, 5]) == "4-6, 10"  # slice numbers as a user counts them


def test_bad_requests_say_what_to_do():
    volume = Volume(hu=np.zeros((4, 8, 8), np.int16), spacing=(1.0, 1.0, 1.0), name="stack",
                    spacing_known=False)
    with pytest.raises(ExportError, match="no spacing information"):
        require_geometry(volume)
    volume.spacing_known = True
    volume.spacing = (float("nan"), 1.0, 1.0)
    with pytest.raises(ExportError, match="spacing"):
        require_geometry(volume)
    with pytest.raises(ExportError, match="empty"):
        require_labels(np.zeros((4, 8, 8), np.uint8), volume)
    with pytest.raises(ExportError, match="shape"):
        require_labels(np.ones((3, 8, 8), np.uint8), volume)
    with pytest.raises(ExportError, match="outside the CT"):
        assemble_label_volume(volume, {7: np.ones((8, 8))})
