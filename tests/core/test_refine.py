"""Native-resolution refinement: the mask follows the bone the CT shows, and nothing else.

Phantoms at 0.5 mm stand in for a dental CT; the network's view of them is their own mask taken
to 4 mm and back (the best any 4 mm network can do). The development head and an OpenKBP case
check the same on real CT with the reference model's own probability.
"""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from core.inference.confidence import CLEAR_HU, mask_confidence
from core.inference.refine import RefineSettings, band_bone_level, refine_masks
from core.training.metrics import confusion, dice, recall
from tests.support.paths import shared_path

SPACING = (1.0, 0.5, 0.5)  # slice, row, col (mm)
SOFT, CORTEX, MARROW, CANAL = 40.0, 1300.0, 150.0, 20.0


def _ellipse(shape, centre, axes) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def _jaw(slices: int = 12, size: int = 160):
    """A bone section on every slice: 1.5 mm cortex, marrow below the bone threshold, a canal."""
    hu = np.full((slices, size, size), SOFT, np.float32)
    outer = _ellipse((size, size), (80, 80), (36, 18))
    inner = _ellipse((size, size), (80, 80), (33, 15))
    canal = _ellipse((size, size), (86, 80), (3, 3))
    hu[:, outer] = CORTEX
    hu[:, inner] = MARROW
    hu[:, canal] = CANAL
    return hu, np.repeat(outer[None], slices, axis=0)


def _network_view(mask: np.ndarray, mm: float = 4.0) -> np.ndarray:
    """The mask as a 4 mm network sees it: averaged onto a 4 mm grid, bilinear back."""
    factor = int(round(mm / SPACING[1]))
    out = []
    for plane in mask.astype(np.float32):
        small = cv2.resize(plane, (plane.shape[1] // factor, plane.shape[0] // factor), interpolation=cv2.INTER_AREA)
        out.append(cv2.resize(small, plane.shape[::-1], interpolation=cv2.INTER_LINEAR))
    return np.stack(out)


def _dice(prediction, truth) -> float:
    return dice(confusion(prediction > 0, truth > 0))


def test_the_mask_follows_the_bone_edge_and_keeps_marrow_and_canal():
    hu, truth = _jaw()
    probability = _network_view(truth)
    refined = refine_masks(hu, probability, SPACING)
    assert refined.dtype == np.uint8 and refined.shape == hu.shape
    assert _dice(refined, truth) > 0.99
    assert _dice(refined, truth) > _dice(probability > 0.5, truth) + 0.02
    inside = hu < 300
    assert refined[truth & inside].all(), "marrow and the canal are part of the mandible"


def test_a_bright_structure_apart_from_the_network_mask_stays_out():
    hu, truth = _jaw()
    apart = _ellipse(hu.shape[1:], (80, 135), (12, 8))  # 8 mm below the jaw section: the maxilla, a vertebra
    hu[:, apart] = CORTEX
    refined = refine_masks(hu, _network_view(truth), SPACING)
    assert not refined[:, apart].any()
    assert _dice(refined, truth) > 0.99


def test_a_slice_of_soft_tissue_alone_gives_nothing():
    hu = np.full((3, 160, 160), SOFT, np.float32)
    hu[1, 60:100, 40:120] = 80.0  # a muscle the network mistook for bone
    probability = np.zeros(hu.shape, np.float32)
    probability[1, 60:100, 40:120] = 0.9
    assert not refine_masks(hu, probability, SPACING).any()


def test_a_thin_process_the_network_misses_is_followed_up_but_stops_at_the_skull_base():
    hu, truth = _jaw(slices=30)
    probability = _network_view(truth)
    hu[:, :, :] = SOFT
    hu[12:, truth[0]] = CORTEX  # the jaw only from slice 12 down
    truth[:12] = False
    probability[:12] = 0.0
    process = np.zeros(hu.shape[1:], bool)
    process[72:78, 50:56] = True  # a 3 x 3 mm condyle rising from the jaw
    hu[4:12, process] = CORTEX
    truth[4:12, process] = True
    hu[:4, 30:80, 20:140] = CORTEX  # the skull base on top of it, 2 cm wide
    refined = refine_masks(hu, probability, SPACING).astype(bool)
    assert refined[4:12, process].all(), "the process above the network's mask is recovered"
    assert refined[:4].sum() < 4 * process.sum(), "it does not spread over the skull base"


def test_an_upper_tooth_on_a_lower_one_stays_out_where_the_network_sees_the_jaw():
    hu, body = _jaw(slices=20)
    hu[:10] = SOFT  # the body of the jaw below slice 10, the rami on every slice
    truth = body.copy()
    truth[:10] = False
    for centre in ((40, 125), (120, 125)):
        ramus = _ellipse(hu.shape[1:], centre, (6, 12))
        hu[:, ramus] = CORTEX
        truth[:, ramus] = True
    lower = _ellipse(hu.shape[1:], (80, 62), (4, 4))  # a lower tooth on the body's front edge
    hu[10:, lower] = CORTEX
    truth[10:, lower] = True
    probability = _network_view(truth)
    upper = _ellipse(hu.shape[1:], (80, 55), (4, 4))
    hu[:10, upper] = CORTEX  # the upper tooth biting on it, which the network leaves out
    refined = refine_masks(hu, probability, SPACING).astype(bool)
    assert not refined[:10, upper].any()
    assert _dice(refined, truth) > 0.97


def test_a_metal_streak_does_not_drag_the_mask_along():
    hu, truth = _jaw(slices=5)
    hu[2, 78:81, :] = 3000.0  # a bright streak across the slice, through the jaw
    hu[2, 84:86, :] = -300.0  # and its dark twin
    refined = refine_masks(hu, _network_view(truth), SPACING).astype(bool)
    far = ~cv2.dilate(truth[2].astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)  # 6 mm away
    assert not refined[2][far].any(), "the streak, 8 cm long, is kept to the network's band"
    assert recall(confusion(refined[2], truth[2])) > 0.97


@pytest.mark.parametrize("units, spacing", [("display", SPACING), ("HU", None), ("HU", (1.0, 0.0, 0.0))])
def test_without_hu_or_spacing_the_network_mask_passes_through(units, spacing):
    hu, truth = _jaw(slices=3)
    probability = _network_view(truth)
    refined = refine_masks(hu, probability, spacing, units=units)
    np.testing.assert_array_equal(refined, (probability > 0.5).astype(np.uint8))


def test_mismatched_shapes_are_refused_plainly():
    with pytest.raises(ValueError, match="one shape"):
        refine_masks(np.zeros((2, 8, 8)), np.zeros((2, 8, 9)), SPACING)


# --- real CT, reference model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_segmenter():
    from core.inference.segmenter import Segmenter

    return Segmenter.from_file(shared_path("models", "okbp128_gpu36.msmodel"))


def _predicted(segmenter, volume, indexes, refine: bool) -> np.ndarray:
    """The slices' masks from the one prediction path (the app's Segment, `predict`, `evaluate`), with
    refinement on or off (--no-refine): the last mask yielded for each slice, revisions included."""
    from core.inference.postprocess import PredictionPolicy

    masks = {p.index: p.mask for p in segmenter.predict(volume, indexes, PredictionPolicy(refine=refine))}
    return np.stack([masks[i] for i in indexes])


def test_on_the_development_head_refinement_in_the_prediction_path_raises_dice(reference_segmenter):
    from core.io.labels import load_labels
    from core.io.loader import load_volume

    root = shared_path("data", "cranium")
    volume = load_volume(root / "dicom")
    label = load_labels(root / "label.nii.gz", volume) > 0
    trusted = json.loads((root / "eval_slices.json").read_text())["eval_slices"]
    block = list(range(84, 100))  # rami up to the condyles, where the network sees little
    plain = _predicted(reference_segmenter, volume, block, refine=False)
    refined = _predicted(reference_segmenter, volume, block, refine=True)
    rows = [i for i, n in enumerate(block) if n in trusted]
    plain_dice = _dice(plain[rows], label[block][rows])
    refined_dice = _dice(refined[rows], label[block][rows])
    assert refined_dice > plain_dice + 0.2, "the condyles and upper rami come back"
    assert refined_dice > 0.9


def test_on_an_openkbp_case_at_4_mm_refinement_changes_nothing(reference_segmenter):
    from core.io.nifti import load_nifti_labels, load_nifti_volume

    root = shared_path("data", "openkbp", "validation")
    volume = load_nifti_volume(root / "imagesTr" / "okbp_pt_207_0000.nii.gz")  # 4.7 mm pixels
    label = load_nifti_labels(root / "labelsTr" / "okbp_pt_207.nii.gz", volume) > 0
    block = list(range(26, 64))  # the mandible (slices 34-57) and the skull base above it
    refined = _predicted(reference_segmenter, volume, block, refine=True)
    np.testing.assert_array_equal(refined, _predicted(reference_segmenter, volume, block, refine=False))
    assert _dice(refined, label[block]) > 0.8


# --- the scan's own bone level (docs/decisions/202) ----------------------------------------------


def test_on_ct_in_hu_the_bone_level_is_todays_300_hu():
    hu, truth = _jaw()
    probability = _network_view(truth)
    hu[:, 20:30, 20:140] = 600.0  # a denser structure in reach changes nothing either
    fixed = refine_masks(hu, probability, SPACING, settings=RefineSettings(bone_hu=300.0))
    np.testing.assert_array_equal(refine_masks(hu, probability, SPACING), fixed)


def test_a_scan_whose_bone_is_dark_is_refined_at_its_own_bone_level():
    """A CBCT's cortex after calibration at 280 HU, its marrow at 100: a fixed 300 HU finds no bone at all."""
    hu, truth = _jaw()
    hu[hu == CORTEX] = 280.0
    hu[hu == MARROW] = 100.0
    probability = _network_view(truth)
    assert _dice(refine_masks(hu, probability, SPACING, settings=RefineSettings(bone_hu=300.0)), truth) < 0.9
    assert _dice(refine_masks(hu, probability, SPACING), truth) > 0.99


def test_a_dark_bone_mask_refinement_drew_right_reads_as_sure_at_the_scans_bone_level():
    """Confidence (core/inference/confidence.py) judges the CT at the bone level refinement used: on the dark
    cortex above, the band's level backs the mask it drew, where 300 HU would call the bone unclear."""
    hu, truth = _jaw()
    hu[hu == CORTEX] = 280.0
    hu[hu == MARROW] = 100.0
    probability = _network_view(truth)
    masks = refine_masks(hu, probability, SPACING)
    k = len(hu) // 2
    level = band_bone_level(hu[k], probability[k])
    assert level < 280.0 - CLEAR_HU
    at_scan_level = mask_confidence(probability[k], masks[k], hu[k], level)
    at_300 = mask_confidence(probability[k], masks[k], hu[k], 300.0)
    assert at_scan_level > 0.95 > at_300
