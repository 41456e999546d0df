"""Calibrations measured against the chosen one (docs/decisions/200), for benchmarks/bench_scanner_shift.py
--alternatives. Each maps a scan's stored values to HU from its field-of-view samples; the padding is found
and made air the same way for all (core.calibration.field_of_view).

  landmarks   the chosen one: air and soft-tissue peaks to -1000 and 18 HU (core.calibration)
  zscore      nnU-Net-style: clip to the scan's 0.5-99.5th percentiles, z-score with its mean and standard
              deviation, then the reference CT's mean and standard deviation (a linear map)
  histogram   histogram matching: the scan's percentiles 1..99 onto the reference CT's (piecewise linear)
  air-bone    fixed anchors: the air peak to -1000 HU, the bone class's median to the reference's bone median
  known       not a calibration a product could make: the variant's own grey map, exactly (air and bone where the
              scanner put them), with the padding found as for the others; what a perfect map would give, so
              that a variant's loss splits into the calibration's share and the rest (grid, cupping, artefacts)

The reference is the bundled sample CT (resources/samples/okbp_pt_224, in HU) seen through the same field of
view: what a product could ship. Statistics of an image depend on what its field of view holds, which is why
the two statistics-based maps are fragile on a CBCT's small field of view.
"""
from __future__ import annotations

import numpy as np

from core.calibration import FROM_SCAN, GreyCalibration, GreyMap, estimate_calibration
from core.calibration.field_of_view import find_padding
from core.calibration.landmarks import field_of_view_samples, find_landmarks

ALTERNATIVES = ("landmarks", "zscore", "histogram", "air-bone")
PERCENTILES = np.arange(1, 100)
KNOWN_BONE_HU = 1200.0  # the bone level the variants' grey maps anchor (benchmarks/scanner_variants.BONE_HU)


class Reference:
    """The statistics of a CT in HU that the statistics-based maps map onto."""

    def __init__(self, hu: np.ndarray):
        samples = field_of_view_samples(hu, find_padding(hu))
        low, high = np.percentile(samples, [0.5, 99.5])
        clipped = np.clip(samples, low, high)
        self.mean, self.std = float(clipped.mean()), float(clipped.std())
        self.percentiles = np.percentile(samples, PERCENTILES)
        marks = find_landmarks(samples)
        self.bone = marks.bone if marks is not None else 800.0


def calibrate_with(name: str, stored: np.ndarray, reference: Reference | None) -> GreyCalibration:
    """The calibration `name` makes of a scan (stored values [slice, row, col])."""
    if name == "landmarks":
        return estimate_calibration(stored)
    padding = find_padding(stored)
    samples = field_of_view_samples(stored, padding)
    if name == "zscore":
        low, high = np.percentile(samples, [0.5, 99.5])
        clipped = np.clip(samples, low, high)
        mean, std = float(clipped.mean()), float(clipped.std())
        grey = GreyMap.through([(mean, reference.mean), (mean + std, reference.mean + reference.std)])
    elif name == "histogram":
        grey = _monotone(np.percentile(samples, PERCENTILES), reference.percentiles)
    elif name == "air-bone":
        marks = find_landmarks(samples)
        grey = GreyMap.through([(marks.air, -1000.0), (marks.bone, reference.bone)])
    else:
        raise ValueError(f"unknown calibration {name!r}; one of {', '.join(ALTERNATIVES)}")
    return GreyCalibration(FROM_SCAN, grey, padding)


def known_calibration(air: float, bone: float, stored: np.ndarray) -> GreyCalibration:
    """The exact linear map of a variant whose scanner stored -1000 HU at `air` and `bone_hu` at `bone`."""
    grey = GreyMap.through([(air, -1000.0), (bone, KNOWN_BONE_HU)])
    return GreyCalibration(FROM_SCAN, grey, find_padding(stored))


def _monotone(stored: np.ndarray, hu: np.ndarray) -> GreyMap:
    """Pairs of quantiles with repeated values dropped, so that both sides rise."""
    points, last_s, last_h = [], -np.inf, -np.inf
    for s, h in zip(stored, hu):
        if s > last_s and h > last_h:
            points.append((float(s), float(h)))
            last_s, last_h = s, h
    return GreyMap.through(points)
