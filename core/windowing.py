"""Window/level: map Hounsfield units (or raw display values) to 8-bit grey for the screen and for PNGs.

A pixel at `center - width/2` or below is black, at `center + width/2` or above white, linear in
between. Integer volumes (int16 HU, uint8/uint16 image stacks) go through a look-up table built
once per window, which is several times faster than the arithmetic on a 512x512 slice.
Preset values are explained in docs/decisions/003-window-presets.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.volume import Volume

MIN_WIDTH = 1.0


@dataclass(frozen=True)
class Window:
    """A display window in the units of the volume (HU for CT)."""

    center: float
    width: float

    def __post_init__(self) -> None:
        if not self.width >= MIN_WIDTH:  # also rejects NaN
            raise ValueError(f"window width must be at least {MIN_WIDTH}, got {self.width}")

    @property
    def low(self) -> float:
        return self.center - self.width / 2.0

    @property
    def high(self) -> float:
        return self.center + self.width / 2.0

    @classmethod
    def from_range(cls, low: float, high: float) -> "Window":
        """The window that maps `low` to black and `high` to white."""
        return cls((low + high) / 2.0, max(MIN_WIDTH, high - low))

    def adjusted(self, d_center: float, d_width: float) -> "Window":
        """Free window/level, e.g. from a mouse drag: shift the level and widen or narrow the window."""
        return Window(self.center + d_center, max(MIN_WIDTH, self.width + d_width))


WINDOW_PRESETS: dict[str, Window] = {
    # Mandible and skull: cortical and cancellous bone clearly apart, soft tissue dark grey.
    "bone": Window(400.0, 1800.0),
    # Teeth: enamel and dentin (1500-3000 HU) and metal fillings stay distinguishable from bone.
    "dental": Window(1000.0, 4000.0),
    # Soft tissue: muscles, glands and fat.
    "soft": Window(40.0, 400.0),
}
DEFAULT_PRESET = "bone"


def _linear(values: np.ndarray, window: Window) -> np.ndarray:
    scaled = (values.astype(np.float64) - window.low) * (255.0 / window.width)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


@lru_cache(maxsize=16)
def _lut(window: Window, dtype_str: str) -> np.ndarray:
    """Grey for every value of a 8/16-bit integer type, indexed by the value's unsigned bit pattern."""
    dtype = np.dtype(dtype_str)
    unsigned = np.dtype(f"u{dtype.itemsize}")
    values = np.arange(2 ** (8 * dtype.itemsize), dtype=unsigned).view(dtype)
    return _linear(values, window)


def hu_to_display(hu: np.ndarray, window: Window) -> np.ndarray:
    """uint8 grey values (0..255) of `hu` shown through `window`; same shape as `hu`."""
    hu = np.asarray(hu)
    if hu.dtype in (np.int16, np.uint16, np.int8, np.uint8):
        lut = _lut(window, hu.dtype.str)
        return np.take(lut, hu.view(f"u{hu.dtype.itemsize}"))
    return _linear(hu, window)


def display_window_for(volume: "Volume") -> Window:
    """A sensible first window: the bone preset for CT, the data range for image stacks and MR.

    8-bit stacks show their full 0..255 range unchanged; other non-HU volumes use the 0.5th to
    99.5th percentile so that a few extreme pixels do not flatten the contrast.
    """
    if volume.units == "HU":
        return WINDOW_PRESETS[DEFAULT_PRESET]
    if volume.hu.dtype == np.uint8:
        return Window.from_range(0.0, 255.0)
    sample = volume.hu[:: max(1, volume.num_slices // 16)]
    low, high = np.percentile(sample, [0.5, 99.5])
    return Window.from_range(float(low), float(high))
