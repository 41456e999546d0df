"""A stack of slices that is mostly zero, kept as one crop per slice: memory follows what the slices hold,
not the volume (issue 22). The prediction keeps the network's probability this way for the whole-run step,
and each slice's first mask to tell which slices that step revises.

    probability = SliceCrops((slices, rows, cols), np.float16, floor=0.005)
    probability.put(k, plane)          # keeps the box of plane > floor, as float16
    probability[k]                     # slice k again, [rows, cols], zero outside its box
    probability.window(10, 20)         # slices 10..19 as one stack-like object (.shape, [k]), nothing copied
    probability.region(range(10, 20))  # (box, dense stack of the box): the union of the slices' boxes

Values at or below `floor` read back as 0: choose it below every threshold a reader applies.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Box = tuple[slice, slice, slice]


class SliceCrops:
    def __init__(self, shape: tuple[int, int, int], dtype, floor: float = 0.0) -> None:
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.floor = floor
        self._crops: dict[int, tuple[int, int, np.ndarray]] = {}  # index -> (top row, left column, values)

    def put(self, index: int, plane: np.ndarray) -> None:
        """Keep slice `index`: the box of its values above the floor (nothing when there are none)."""
        plane = np.asarray(plane)
        if plane.shape != self.shape[1:]:
            raise ValueError(f"slice {index} has shape {plane.shape}; the stack's slices are {self.shape[1:]}")
        above = plane > self.floor
        rows = np.flatnonzero(above.any(axis=1))
        if rows.size == 0:
            self._crops.pop(index, None)
            return
        cols = np.flatnonzero(above.any(axis=0))
        crop = plane[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        crop = np.where(above[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], crop, 0).astype(self.dtype)
        self._crops[int(index)] = (int(rows[0]), int(cols[0]), crop)

    def __getitem__(self, index: int) -> np.ndarray:
        """Slice `index`, dense [rows, cols] (zeros where nothing was kept)."""
        plane = np.zeros(self.shape[1:], self.dtype)
        found = self._crops.get(int(index))
        if found is not None:
            top, left, crop = found
            plane[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
        return plane

    def discard(self, indexes: Iterable[int]) -> None:
        for index in indexes:
            self._crops.pop(int(index), None)

    @property
    def nbytes(self) -> int:
        return sum(crop.nbytes for _, _, crop in self._crops.values())

    def window(self, start: int, stop: int) -> "CropWindow":
        return CropWindow(self, start, stop)

    def region(self, indexes: Iterable[int]) -> tuple[Box, np.ndarray] | None:
        """The slices `indexes` (consecutive) within the union of their boxes: (box, dense stack); None when all are empty."""
        indexes = sorted(int(i) for i in indexes)
        found = [self._crops[i] for i in indexes if i in self._crops]
        if not found:
            return None
        top, left = min(c[0] for c in found), min(c[1] for c in found)
        bottom = max(c[0] + c[2].shape[0] for c in found)
        right = max(c[1] + c[2].shape[1] for c in found)
        box = (slice(indexes[0], indexes[-1] + 1), slice(top, bottom), slice(left, right))
        stack = np.zeros((len(indexes), bottom - top, right - left), self.dtype)
        for n, index in enumerate(range(indexes[0], indexes[-1] + 1)):
            crop_at = self._crops.get(index)
            if crop_at is not None:
                row, col, crop = crop_at
                stack[n, row - top:row - top + crop.shape[0], col - left:col - left + crop.shape[1]] = crop
        return box, stack


class CropWindow:
    """Slices start..stop-1 of a SliceCrops as a stack: `.shape` and `[k]` (slice start + k), as refinement reads it."""

    def __init__(self, crops: SliceCrops, start: int, stop: int) -> None:
        self.crops, self.start = crops, start
        self.shape = (stop - start, *crops.shape[1:])

    def __getitem__(self, index: int) -> np.ndarray:
        return self.crops[self.start + index]
