"""Landmarks of a scan's histogram inside its field of view: the air, soft-tissue and bone levels.

The values inside the field of view (padding left out) fall into three classes, split by Otsu's method twice
(scikit-image's threshold_otsu): air and background from the body, then, within the body, soft tissue from
bone (one three-class split lets a CT's air, 90 % of its voxels, pull both thresholds). The air landmark
is the peak of the first class, the soft-tissue landmark the brightest clear peak of the second (fat, darker,
is often the taller one); bone has no peak (cortex, marrow, teeth and
metal spread it out), so its landmark is the median of the third class: a check, not an anchor.

    samples = field_of_view_samples(volume, padding)
    marks = find_landmarks(samples)        # None when the histogram has no such classes
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks
from skimage.filters import threshold_otsu

from core.calibration.field_of_view import padding_mask

SAMPLED_SLICES = 48
SAMPLES_PER_SLICE = 40_000
BINS = 1024
MIN_SHARE = 0.005  # a class with fewer of the samples (of the body's, for soft tissue and bone) is no tissue
# A peak of the soft-tissue class this tall and this clear (shares of the class's tallest) is a tissue's.
PEAK_HEIGHT, PEAK_PROMINENCE = 0.25, 0.1
BONE_PERCENTILE = 90.0
# The air peak stands this far above the valley to the body (natural log of the counts: 2.7 times), and its bin
# holds at least this share of the samples (per cent of them, over about 100 bins of a peak's width).
AIR_PROMINENCE, AIR_MIN_SHARE = 1.0, 0.5


@dataclass(frozen=True)
class Landmarks:
    """Levels in the scan's stored grey values, and the share of field-of-view samples in each class."""

    air: float
    soft_tissue: float
    bone: float
    air_share: float
    soft_tissue_share: float
    bone_share: float
    tissue_peaks: tuple[float, ...] = ()  # every clear peak of the soft-tissue class (fat, soft tissue, blood)

    def to_dict(self) -> dict:
        data = {k: round(v, 4) for k, v in asdict(self).items() if k != "tissue_peaks"}
        return {**data, "tissue_peaks": [round(p, 4) for p in self.tissue_peaks]}

    @classmethod
    def from_dict(cls, data) -> "Landmarks":
        fields = {k: float(data[k]) for k in cls.__dataclass_fields__ if k != "tissue_peaks"}
        return cls(**fields, tissue_peaks=tuple(float(p) for p in data.get("tissue_peaks", ())))


def field_of_view_samples(volume: np.ndarray, padding: tuple[float, float] | None) -> np.ndarray:
    """float32 values from up to SAMPLED_SLICES evenly spread slices, on a grid of about SAMPLES_PER_SLICE
    pixels each, without the padding."""
    slices = np.unique(np.linspace(0, volume.shape[0] - 1, min(SAMPLED_SLICES, volume.shape[0])).round().astype(int))
    stride = max(1, int(np.sqrt(volume.shape[1] * volume.shape[2] / SAMPLES_PER_SLICE)))
    kept = []
    for k in slices:
        plane = np.asarray(volume[k, ::stride, ::stride])
        kept.append(plane[~padding_mask(plane, padding)].astype(np.float32))
    return np.concatenate(kept) if kept else np.zeros(0, np.float32)


def histogram(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin centres) from the smallest value to the 99.9th percentile; whole-number bins for whole numbers,
    so that 8-bit values do not leave empty bins between them."""
    low, high = float(samples.min()), float(np.percentile(samples, 99.9))
    width = (high - low) / BINS if high > low else 1.0
    if np.all(samples == np.round(samples)):
        width = max(1.0, np.ceil(width))
    edges = low - width / 2 + width * np.arange(int((high - low) / width) + 2)
    counts, edges = np.histogram(samples, bins=edges)
    return counts, (edges[:-1] + edges[1:]) / 2


def find_landmarks(samples: np.ndarray) -> Landmarks | None:
    """The air, soft-tissue and bone levels of field-of-view samples; None without three distinct classes."""
    samples = np.asarray(samples, np.float32)
    if samples.size < 1000:
        return None
    counts, centres = histogram(samples)
    if np.count_nonzero(counts) < 3:
        return None
    smooth = gaussian_filter1d(counts.astype(np.float64), 2.0)
    low = _air_valley(smooth, centres, samples.size)
    if low is None:  # no clear air peak apart from the body: Otsu's split of everything (air may be most of a CT)
        low = _otsu(counts, centres, np.ones(len(counts), bool))
    high = _otsu(counts, centres, centres >= low)  # soft tissue | bone, within the body
    body = samples >= low
    shares = [float(np.mean(~body)), float(np.mean(body & (samples < high))), float(np.mean(samples >= high))]
    if min(shares[0], shares[1] / max(shares[1] + shares[2], 1e-9), shares[2] / max(shares[1] + shares[2], 1e-9)) \
            < MIN_SHARE:
        return None
    air = _peak(smooth, centres, centres < low)
    peaks = _clear_peaks(smooth, centres, (centres >= low) & (centres < high))
    bone = float(np.median(samples[samples >= high]))
    return Landmarks(air, peaks[-1], bone, *shares, tissue_peaks=peaks)


def _air_valley(smooth: np.ndarray, centres: np.ndarray, total: int) -> float | None:
    """The deepest point between the darkest clear peak (air) and the next one (the body), on the logarithm of the
    histogram, where a small class (the air of a dental field of view) stands out as clearly as a large one (a
    CT's air); None without two such peaks."""
    logs = np.pad(np.log1p(smooth), 1)  # a peak in the first bin (air clipped at 0) is a peak too
    peaks, _ = find_peaks(logs, prominence=AIR_PROMINENCE, height=np.log1p(AIR_MIN_SHARE * total / 100.0))
    if len(peaks) < 2:
        return None
    first, second = peaks[0] - 1, peaks[1] - 1
    return float(centres[first + int(np.argmin(smooth[first:second + 1]))])


def _otsu(counts: np.ndarray, centres: np.ndarray, inside: np.ndarray) -> float:
    """Otsu's threshold of the histogram's bins `inside` (scikit-image's threshold_otsu on a histogram)."""
    return float(threshold_otsu(hist=(counts[inside], centres[inside])))


def _peak(smooth: np.ndarray, centres: np.ndarray, inside: np.ndarray) -> float:
    return float(centres[np.argmax(np.where(inside, smooth, -1.0))])


def _clear_peaks(smooth: np.ndarray, centres: np.ndarray, inside: np.ndarray) -> tuple[float, ...]:
    """The clear peaks of a class, darkest first (at least its tallest). Its brightest is soft tissue: fat, darker,
    can be the taller one."""
    heights = np.where(inside, smooth, 0.0)
    tallest = heights.max()
    peaks, _ = find_peaks(heights, height=PEAK_HEIGHT * tallest, prominence=PEAK_PROMINENCE * tallest)
    return tuple(float(c) for c in centres[peaks]) if peaks.size else (_peak(smooth, centres, inside),)


def tissue_split(values: np.ndarray, above: float) -> tuple[float, float] | None:
    """(soft tissue, bone) of `values` above `above`: the median of the lower of the two classes Otsu's method
    splits them into, and the 90th percentile (the cortex, not marrow, and not the few teeth or metal pixels);
    None when there are too few values or they are all alike."""
    values = np.asarray(values, np.float32)
    values = values[values > above]
    if values.size < 50 or values.min() == values.max():
        return None
    lower = values[values <= threshold_otsu(values)]
    return float(np.median(lower)), float(np.percentile(values, BONE_PERCENTILE))
