"""Reslicing: the axial, coronal and sagittal planes through a point of the CT and its labels. No Qt.

A plane is named by the volume axis it cuts across (AXIAL cuts the slice axis, CORONAL the row
axis, SAGITTAL the column axis). Its image has the remaining two axes in volume order, so the
coronal and sagittal images have the slice axis (head at the top) vertically: coronal shows
columns across, as the axial view does (radiological), sagittal shows rows across (anterior left).
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Protocol

import numpy as np

from gui.overlay import pixel_origin


class Plane(Enum):
    AXIAL = 0
    CORONAL = 1
    SAGITTAL = 2

    @property
    def axis(self) -> int:
        """The volume axis this plane cuts across (the one its wheel steps along)."""
        return self.value

    @property
    def image_axes(self) -> tuple[int, int]:
        """The volume axes shown vertically and horizontally."""
        return tuple(a for a in range(3) if a != self.value)  # type: ignore[return-value]

    @property
    def edges(self) -> tuple[str, str, str, str]:
        """The patient directions at the top, bottom, left and right of this plane's image: the canonical array
        (decision 002) runs superior to inferior, anterior to posterior and patient right to left, shown the
        radiological way (the patient's right on the left of the screen)."""
        return {Plane.AXIAL: ("A", "P", "R", "L"), Plane.CORONAL: ("S", "I", "R", "L"),
                Plane.SAGITTAL: ("S", "I", "A", "P")}[self]

    @property
    def title(self) -> str:
        return self.name.capitalize()


class LabelSource(Protocol):
    """Where the views read the mandible mask from; the open case adapts its annotations to this."""

    shape: tuple[int, int, int]

    def slice_mask(self, index: int) -> np.ndarray | None:
        """uint8 0/1 [row, col] of one slice, or None when the slice has no annotation."""

    def slice_origin(self, index: int) -> np.ndarray | None:
        """uint8 [row, col]: where each pixel came from (gui/overlay.py `pixel_origin`), or None (a person)."""


class ArrayLabels:
    """A label volume [slice, row, col] as a LabelSource (an imported label file, tests, benchmarks)."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels
        self.shape = tuple(labels.shape)

    def slice_mask(self, index: int) -> np.ndarray | None:
        return self.labels[index]

    def slice_origin(self, index: int) -> np.ndarray | None:
        return None


class AnnotationLabels:
    """The open case's per-slice annotations (`SliceAnnotation` with .mask and .edited) as a LabelSource."""

    def __init__(self, annotations: Mapping[int, object], shape: tuple[int, int, int]) -> None:
        self.annotations = annotations
        self.shape = tuple(shape)

    def slice_mask(self, index: int) -> np.ndarray | None:
        annotation = self.annotations.get(index)
        return None if annotation is None else annotation.mask

    def slice_origin(self, index: int) -> np.ndarray | None:
        annotation = self.annotations.get(index)
        return None if annotation is None else pixel_origin(annotation)


def label_crop(source: LabelSource) -> tuple[tuple[int, int, int], np.ndarray]:
    """(first voxel, uint8 copy) of the labels' bounding box: what the 3-D view builds from, a fraction of
    a whole label volume's memory on a large scan. An empty crop (no slice) when no slice has mandible."""
    found = {}
    for index in range(source.shape[0]):
        mask = source.slice_mask(index)
        if mask is not None and mask.any():
            found[index] = mask
    if not found:
        return (0, 0, 0), np.zeros((0, *source.shape[1:]), np.uint8)
    rows = [np.flatnonzero(mask.any(axis=1)) for mask in found.values()]
    cols = [np.flatnonzero(mask.any(axis=0)) for mask in found.values()]
    top, bottom = min(r[0] for r in rows), max(r[-1] for r in rows) + 1
    left, right = min(c[0] for c in cols), max(c[-1] for c in cols) + 1
    first, last = min(found), max(found)
    out = np.zeros((last - first + 1, bottom - top, right - left), np.uint8)
    for index, mask in found.items():
        out[index - first] = mask[top:bottom, left:right]
    return (first, int(top), int(left)), out


def plane_image(volume_array: np.ndarray, plane: Plane, index: int) -> np.ndarray:
    """The 2-D cut of a [slice, row, col] array across `plane.axis` at `index` (a view, no copy)."""
    return volume_array[(slice(None),) * plane.axis + (index,)]


def plane_labels(source: LabelSource, plane: Plane, index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(mask, origin) of the plane at `index`; origin is None when every pixel is a person's."""
    if plane is Plane.AXIAL:
        mask = source.slice_mask(index)
        if mask is None:
            return np.zeros(source.shape[1:], np.uint8), None
        return mask, source.slice_origin(index)
    rows = []
    origin_rows = []
    any_origin = False
    width = source.shape[2] if plane is Plane.CORONAL else source.shape[1]
    for k in range(source.shape[0]):
        mask, origin = source.slice_mask(k), source.slice_origin(k)
        rows.append(np.zeros(width, np.uint8) if mask is None else np.take(mask, index, axis=plane.axis - 1))
        if origin is not None:
            any_origin = True
            origin_rows.append(np.take(origin, index, axis=plane.axis - 1))
        else:
            origin_rows.append(np.zeros(width, np.uint8))
    return np.stack(rows), (np.stack(origin_rows) if any_origin else None)


def pixel_size(spacing: tuple[float, float, float], plane: Plane) -> tuple[float, float]:
    """(height, width) in millimetres of one image pixel of `plane`."""
    vertical, horizontal = plane.image_axes
    return float(spacing[vertical]), float(spacing[horizontal])


def image_shape(shape: tuple[int, int, int], plane: Plane) -> tuple[int, int]:
    """(rows, cols) of the plane's image in a volume of `shape`."""
    vertical, horizontal = plane.image_axes
    return shape[vertical], shape[horizontal]


def to_volume(plane: Plane, index: int, image_row: int, image_col: int) -> tuple[int, int, int]:
    """The (slice, row, col) of pixel (image_row, image_col) of `plane` cut at `index`."""
    point = [0, 0, 0]
    point[plane.axis] = index
    vertical, horizontal = plane.image_axes
    point[vertical], point[horizontal] = image_row, image_col
    return tuple(point)  # type: ignore[return-value]


def to_image(plane: Plane, point: tuple[int, int, int]) -> tuple[int, int]:
    """The (image_row, image_col) of a volume point on `plane`."""
    vertical, horizontal = plane.image_axes
    return point[vertical], point[horizontal]
