"""A scan's stored grey values -> Hounsfield units: one monotone piecewise-linear map.

    grey = GreyMap.through([(12, -1000.0), (1032, 18.0)])   # air and soft tissue of a CBCT
    hu = grey(values)                                        # float32, same shape
    stored = grey.inverse(hu)

Beyond its first and last points the map goes on along its end segments, so no grey value is clipped.
Integer volumes go through a look-up table of every 8- or 16-bit value (`int16_table`), built once per
map: calibrating a slice is one `np.take`, as exact as the arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.errors import CalibrationError

# What lies outside the scan: the network's canvas around a slice, and a field of view's padding once calibrated.
AIR_HU = -1024.0
INT16_RANGE = (-32768, 32767)


@dataclass(frozen=True)
class GreyMap:
    """Points (stored grey value -> HU), both strictly increasing: a monotone map, linear between them."""

    stored: tuple[float, ...]
    hu: tuple[float, ...]

    def __post_init__(self) -> None:
        stored, hu = tuple(map(float, self.stored)), tuple(map(float, self.hu))
        object.__setattr__(self, "stored", stored)
        object.__setattr__(self, "hu", hu)
        if len(stored) < 2 or len(stored) != len(hu):
            raise CalibrationError(f"a grey-value map needs two or more points, each a grey value and its HU; "
                                   f"got {len(stored)} grey values and {len(hu)} HU values")
        if not all(math.isfinite(v) for v in stored + hu):
            raise CalibrationError("a grey-value map's points must be numbers")
        if any(b <= a for a, b in zip(stored, stored[1:])) or any(b <= a for a, b in zip(hu, hu[1:])):
            raise CalibrationError(f"grey values {_listed(stored)} must rise with their HU {_listed(hu)}: "
                                   "air is darker than soft tissue, and soft tissue darker than bone")

    @classmethod
    def identity(cls) -> "GreyMap":
        return cls((0.0, 1.0), (0.0, 1.0))

    @classmethod
    def through(cls, points) -> "GreyMap":
        """The map through (stored, hu) pairs, given in any order."""
        pairs = sorted((float(s), float(h)) for s, h in points)
        return cls(tuple(s for s, _ in pairs), tuple(h for _, h in pairs))

    @property
    def is_identity(self) -> bool:
        return self.stored == self.hu

    def __call__(self, values, dtype=np.float32) -> np.ndarray:
        """HU of stored grey values (float32; float64 for exact points)."""
        return _linear_pieces(values, self.stored, self.hu, dtype, self.is_identity)

    def inverse(self, hu, dtype=np.float32) -> np.ndarray:
        """Stored grey values of HU values."""
        return _linear_pieces(hu, self.hu, self.stored, dtype, self.is_identity)

    def hu_of(self, stored: float) -> float:
        return float(self([stored], np.float64)[0])

    def stored_of(self, hu: float) -> float:
        return float(self.inverse([hu], np.float64)[0])

    def then(self, other: "GreyMap") -> "GreyMap":
        """The map from this map's HU to `other`'s HU of the same stored values (other after this one's inverse)."""
        knots = sorted(set(self.hu) | {self.hu_of(s) for s in other.stored})
        return GreyMap.through((h, other.hu_of(self.stored_of(h))) for h in knots)

    def int16_table(self, dtype: np.dtype) -> np.ndarray:
        """int16 HU of every value of an 8- or 16-bit integer type, indexed by the value's unsigned bit pattern."""
        return _table(self, np.dtype(dtype).str)

    def to_int16(self, values: np.ndarray) -> np.ndarray:
        """HU of stored values, rounded to whole HU in int16 (a table for 8/16-bit integers)."""
        values = np.asarray(values)
        if values.dtype in (np.int8, np.uint8, np.int16, np.uint16):
            return np.take(self.int16_table(values.dtype), values.view(f"u{values.dtype.itemsize}"))
        return rounded_int16(self(values))

    def to_dict(self) -> dict:
        return {"stored": list(self.stored), "hu": list(self.hu)}

    @classmethod
    def from_dict(cls, data) -> "GreyMap":
        return cls(tuple(data["stored"]), tuple(data["hu"]))


def _linear_pieces(values, source: tuple, target: tuple, dtype, identity: bool) -> np.ndarray:
    values = np.asarray(values, dtype=dtype)
    if identity:
        return values
    source_a, target_a = np.asarray(source, dtype), np.asarray(target, dtype)
    slopes = (np.diff(np.asarray(target, np.float64)) / np.diff(np.asarray(source, np.float64))).astype(dtype)
    if len(source) == 2:
        return (values - source_a[0]) * slopes[0] + target_a[0]
    segment = np.clip(np.searchsorted(source_a, values, side="right") - 1, 0, len(slopes) - 1)
    return (values - source_a[segment]) * slopes[segment] + target_a[segment]


def rounded_int16(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), *INT16_RANGE).astype(np.int16)


@lru_cache(maxsize=8)
def _table(grey: GreyMap, dtype_str: str) -> np.ndarray:
    dtype = np.dtype(dtype_str)
    values = np.arange(2 ** (8 * dtype.itemsize), dtype=f"u{dtype.itemsize}").view(dtype)
    return rounded_int16(grey(values))


def _listed(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)
