"""The field of view of a reconstruction: the constant padding around it, to be treated as air.

A cone-beam scanner reconstructs a cylinder; the corners of each square slice lie outside it and hold one
constant value (0, -1000, -2000 or -3024, or the file's PixelPaddingValue / PixelPaddingRangeLimit). That
value is not air: left as it is, 0 shows as a bright ring in HU and fools the network. Padding is the part
of a slice holding the padding value that is connected to the slice's border, so that soft tissue which
happens to have the padding value inside the field of view stays what it is.
"""
from __future__ import annotations

import cv2
import numpy as np

# Values scanners pad with, in HU or in the volume's own units (0 is common on CBCT).
KNOWN_PADDING = (0.0, -1000.0, -1024.0, -2000.0, -2048.0, -3024.0, -32768.0)
CORNER_SHARE = 0.9  # the corners of a padded volume hold one value; air or noise never does
MAX_PADDING_SHARE = 0.6  # a field of view inscribed in its slices leaves 21 % outside; a blank volume is not padded
SAMPLED_SLICES = 24


def corner_values(volume: np.ndarray, slices: int = SAMPLED_SLICES) -> np.ndarray:
    """The values in the four corner patches of up to `slices` evenly spread slices."""
    rows, cols = volume.shape[1:]
    side = max(2, min(rows, cols) // 32)
    picked = np.unique(np.linspace(0, volume.shape[0] - 1, min(slices, volume.shape[0])).round().astype(int))
    patches = [volume[k, r, c] for k in picked
               for r in (slice(0, side), slice(rows - side, rows)) for c in (slice(0, side), slice(cols - side, cols))]
    return np.concatenate([np.ravel(p) for p in patches])


def find_padding(volume: np.ndarray, declared: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """The padding range (low, high) in the volume's units, or None when the corners are not padded.

    `declared`: the file's own padding (DICOM PixelPaddingValue and PixelPaddingRangeLimit, rescaled), used
    when the corners hold it. Else a value the corners share, when it is a usual padding value or the
    volume's smallest value.
    """
    padding = _padding_value(volume, declared)
    if padding is None or _padded_share(volume, padding) > MAX_PADDING_SHARE:
        return None
    return padding


def _padding_value(volume: np.ndarray, declared: tuple[float, float] | None) -> tuple[float, float] | None:
    corners = corner_values(volume)
    if corners.size == 0:
        return None
    if declared is not None:
        low, high = sorted(declared)
        if _share(corners, low, high) < CORNER_SHARE:
            # Lossy compression (JPEG 2000) spreads the value: halfway from it to the scan's median is padding too.
            tolerance = 0.5 * abs(low - _sampled(volume, np.median))
            low, high = low - tolerance, high + tolerance
        if _share(corners, low, high) >= CORNER_SHARE:
            return float(low), float(high)
    values, counts = np.unique(corners, return_counts=True)
    value = float(values[np.argmax(counts)])
    if counts.max() < CORNER_SHARE * corners.size:
        return None
    if value in KNOWN_PADDING or value <= float(corners.min()) and value <= _sampled(volume, np.min):
        return value, value
    return None


def _padded_share(volume: np.ndarray, padding: tuple[float, float]) -> float:
    """The share of the sampled slices' pixels that would be padding."""
    picked = np.unique(np.linspace(0, volume.shape[0] - 1, min(SAMPLED_SLICES, volume.shape[0])).round().astype(int))
    return float(np.mean([padding_mask(np.asarray(volume[k]), padding).mean() for k in picked]))


def _share(values: np.ndarray, low: float, high: float) -> float:
    return float(np.mean((values >= low) & (values <= high)))


def _sampled(volume: np.ndarray, statistic) -> float:
    step = max(1, volume.shape[0] // SAMPLED_SLICES)
    stride = max(1, min(volume.shape[1:]) // 128)
    return float(statistic(volume[::step, ::stride, ::stride]))


def padding_mask(plane: np.ndarray, padding: tuple[float, float] | None) -> np.ndarray:
    """True where a slice [rows, cols] holds padding: the padding values connected to the slice's border."""
    if padding is None:
        return np.zeros(plane.shape, dtype=bool)
    low, high = padding
    candidate = ((plane >= low) & (plane <= high)).astype(np.uint8)
    if not candidate.any():
        return candidate.astype(bool)
    count, labels = cv2.connectedComponents(candidate, connectivity=4, ltype=cv2.CV_32S)
    border = np.zeros(count, dtype=bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        border[edge] = True
    border[0] = False
    return border[labels]
