"""A small CBCT-like head for calibration tests: air, a rim of fat, soft tissue, a jaw of cortical bone with
marrow, inside a circular field of view with constant padding outside, stored through a scanner's grey map."""
from __future__ import annotations

import cv2
import numpy as np

SOFT_HU, FAT_HU, CORTEX_HU, MARROW_HU = 40.0, -100.0, 1200.0, 300.0


def _ellipse(shape, centre, axes) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def phantom_hu(slices: int = 10, size: int = 128, noise_hu: float = 20.0, seed: int = 0) -> np.ndarray:
    """float32 HU [slices, size, size]: the head and jaw; air outside (no field of view yet)."""
    shape = (size, size)
    centre = (size // 2, size // 2)
    plane = np.full(shape, -1000.0, np.float32)
    plane[_ellipse(shape, centre, (size * 3 // 8, size * 5 // 16))] = FAT_HU
    plane[_ellipse(shape, centre, (size * 11 // 32, size * 9 // 32))] = SOFT_HU
    plane[_ellipse(shape, (size // 2, size * 5 // 8), (size // 5, size // 10))] = CORTEX_HU
    plane[_ellipse(shape, (size // 2, size * 5 // 8), (size // 5 - 3, size // 10 - 3))] = MARROW_HU
    plane[_ellipse(shape, (size // 2, size * 3 // 8), (size // 12, size // 16))] = -1000.0  # the airway
    rng = np.random.default_rng(seed)
    return np.stack([plane + rng.normal(0, noise_hu, shape).astype(np.float32) for _ in range(slices)])


def field_of_view(size: int) -> np.ndarray:
    """True inside the circle inscribed in a size x size slice."""
    return _ellipse((size, size), (size // 2, size // 2), (size // 2 - 1, size // 2 - 1))


def cbct_stored(hu: np.ndarray, air: float = 300.0, bone: float = 1600.0, padding: float = 0.0,
                dtype=np.uint16) -> np.ndarray:
    """A scanner's stored values: air (-1000 HU) at `air`, cortical bone at `bone`, linear; `padding` outside
    the field of view."""
    scale = (bone - air) / (CORTEX_HU + 1000.0)
    stored = np.rint(air + (hu + 1000.0) * scale)
    stored[:, ~field_of_view(hu.shape[-1])] = padding
    info = np.iinfo(dtype)
    return np.clip(stored, info.min, info.max).astype(dtype)
