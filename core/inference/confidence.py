"""How sure a slice's mask is, measured on the mask the user sees (after refinement and clean-up): the share of the
pixels in question whose label there is backed by clear evidence.

The pixels in question are the mask and every pixel where the model gives the mandible a real chance
(probability >= BAND). A pixel's label is backed when
  * the network is sure and agrees: inside the mask with probability >= SURE, outside with probability < BAND;
  * or, where refinement drew the mask from the CT (a fine CT in HU, core/inference/refine.py), the CT is clear and
    agrees: inside, bone well above the bone threshold (and the marrow that bone encloses); outside, tissue well
    below it.
Confidence = backed / in question, in [0, 1]; 1 when nothing is in question. So it is about the mask shown:
  * a slice whose mask follows clear bone scores high even where the coarse network hesitated (thin rami,
    condyles it only touched), which refinement drew right;
  * a mask piece with neither the network's nor the CT's backing (a blob refinement carried into soft tissue, a
    region the network half saw) scores low;
  * "no mandible" is sure when the places the model hesitated over are clearly not bone or clearly not its
    mandible, and unsure when it hesitated over bone the clean-up then dropped (docs/decisions/183).
On coarse CTs (OpenKBP's 4 mm, image stacks) refinement does not redraw the mask and only the network's backing
counts. The probability is the network's, brought back to the CT's grid.
"""
from __future__ import annotations

import numpy as np

from core.annotation.morphology import fill_holes

BAND = 0.1
SURE = 0.9
CLEAR_HU = 100.0  # the CT is clear this far above or below the bone threshold (partial volume lies within it)


def mask_confidence(probability: np.ndarray, mask: np.ndarray, hu: np.ndarray | None = None,
                    bone_hu: float | None = None) -> float:
    """Confidence in [0, 1] of one slice's `mask` given the network's `probability` on the same grid; `hu` and
    `bone_hu` where refinement drew the mask from the CT."""
    probability = np.asarray(probability, np.float32)
    inside = np.asarray(mask) > 0
    in_question = inside | (probability >= BAND)
    count = int(np.count_nonzero(in_question))
    if count == 0:
        return 1.0
    backed = (inside & (probability >= SURE)) | (~inside & (probability < BAND))
    if hu is not None and bone_hu is not None:
        hu = np.asarray(hu, np.float32)
        bone = inside & (hu >= bone_hu + CLEAR_HU)
        backed |= inside & fill_holes(bone).astype(bool)
        backed |= ~inside & (hu < bone_hu - CLEAR_HU)
    return float(np.count_nonzero(backed & in_question)) / count
