"""How sure the model is on one slice: 1 minus the share of the mandible band it is unsure about.

The band is every pixel where the model gives the mandible a real chance (probability >= BAND);
a band pixel is unsure when its probability is below SURE, so it is neither clearly background
nor clearly bone. Confidence = 1 - unsure / band, in [0, 1]:
  * a slice whose mandible the model outlines crisply scores close to 1 (only a thin edge is unsure);
  * a slice where it hesitates (thin rami, condyles, metal streaks, the first and last slices
    of the bone) scores low, because much of its band is unsure;
  * a slice with no band at all (the model is sure there is no mandible) scores 1.
It is measured on the model's own canvas (a fixed number of millimetres per pixel), so the
width of the unsure edge does not depend on the CT's resolution (docs/decisions/142).
"""
from __future__ import annotations

import numpy as np

BAND = 0.1
SURE = 0.9


def slice_confidence(probability: np.ndarray) -> float:
    """Confidence in [0, 1] of one slice's mandible probability map (any 2-D grid)."""
    probability = np.asarray(probability, np.float32)
    band = probability >= BAND
    count = int(np.count_nonzero(band))
    if count == 0:
        return 1.0
    unsure = int(np.count_nonzero(band & (probability < SURE)))
    return 1.0 - unsure / count
