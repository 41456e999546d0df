"""Masks <-> polygons, rasterized exactly the way Labelme rasterizes them.

Labelme draws each shape in file order with PIL's ImageDraw.polygon(fill=1, outline=1) and
paints its label's class; a later shape overwrites an earlier one (labelme.utils.shapes_to_label).
So a hole (marrow, mandibular canal) is a polygon labelled HOLE_LABEL drawn right after its
outer polygon, and an island inside a hole is drawn after that (docs/decisions/010).

Vertices sit on pixel centres of the region's boundary pixels (cv2 contour tracing), which the
outline stroke covers exactly; mask -> polygons -> mask is therefore lossless, checked at the
end of mask_to_polygons.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import cv2
import numpy as np
import PIL.Image
import PIL.ImageDraw

from core.annotation.shape import Shape

log = logging.getLogger(__name__)

HOLE_LABEL = "_background_"
# Nesting depth (mandible, hole, island in hole, ...) beyond which we stop refining.
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Polygon:
    """A filled outline with holes. outer and each hole are (N, 2) arrays of (x, y) = (col, row)."""

    outer: np.ndarray
    holes: list[np.ndarray] = field(default_factory=list)


def mask_to_polygons(mask: np.ndarray) -> list[Polygon]:
    """One polygon per outermost connected component (8-connected), holes traced on hole pixels.

    Drawing the list in order with polygons_to_mask gives back the mask exactly.
    """
    target = np.asarray(mask) > 0
    if target.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {target.shape}")
    polygons = _polygons_for(target, target, depth=0)
    if not np.array_equal(polygons_to_mask(polygons, *target.shape), target):
        log.warning("mask -> polygons round trip is not exact (nesting deeper than %d levels)", _MAX_DEPTH)
    return polygons


def polygons_to_mask(polygons: Iterable[Polygon], height: int, width: int) -> np.ndarray:
    """Rasterize in order: each outer painted 1 (with outline), then its holes painted 0."""
    image = PIL.Image.new("L", (int(width), int(height)), 0)
    draw = PIL.ImageDraw.Draw(image)
    for polygon in polygons:
        _draw(draw, polygon.outer, 1)
        for hole in polygon.holes:
            _draw(draw, hole, 0)
    return np.asarray(image) > 0


def mask_to_shapes(mask: np.ndarray, label: str = "mandible") -> list[Shape]:
    """Labelme polygon shapes for a mask: outer polygons as `label`, holes as HOLE_LABEL."""
    shapes: list[Shape] = []
    for polygon in mask_to_polygons(mask):
        shapes.append(Shape(label=label, points=_points(polygon.outer)))
        shapes.extend(Shape(label=HOLE_LABEL, points=_points(hole)) for hole in polygon.holes)
    return shapes


def shapes_to_mask(shapes: Sequence[Shape], height: int, width: int, label: str = "mandible") -> np.ndarray:
    """Pixels whose final class is `label`, as Labelme's shapes_to_label computes it (uint8 0/1).

    Every shape paints its own label in order, so any other label drawn later erases `label`.
    Raises ValueError for a shape Labelme cannot rasterize (wrong point count, unknown type).
    """
    result = np.zeros((int(height), int(width)), dtype=bool)
    for shape in shapes:
        painted = shape_to_mask(shape, height, width)
        result[painted] = shape.label == label
    return result.astype(np.uint8)


def shape_to_mask(shape: Shape, height: int, width: int) -> np.ndarray:
    """The pixels one shape covers, following labelme.utils.shape.shape_to_mask (6.3.1)."""
    if shape.shape_type == "mask":
        return _mask_shape_pixels(shape, height, width)
    image = PIL.Image.new("L", (int(width), int(height)), 0)
    draw = PIL.ImageDraw.Draw(image)
    xy = [(float(x), float(y)) for x, y in shape.points]
    kind = shape.shape_type
    _check_point_count(shape, len(xy))
    if kind == "circle":
        (cx, cy), (px, py) = xy
        d = float(np.hypot(cx - px, cy - py))
        draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=1, fill=1)
    elif kind == "rectangle":
        (x0, y0), (x1, y1) = xy
        draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=1, fill=1)
    elif kind in ("line", "linestrip"):
        draw.line(xy=xy, fill=1, width=10)
    elif kind == "point":
        (cx, cy), r = xy[0], 5
        draw.ellipse(((cx - r, cy - r), (cx + r, cy + r)), outline=1, fill=1)
    else:  # polygon, oriented_rectangle
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.asarray(image) > 0


_POINT_COUNTS = {"circle": (2, 2), "rectangle": (2, 2), "line": (2, 2), "point": (1, 1),
                 "oriented_rectangle": (4, 4), "polygon": (3, None), "linestrip": (1, None), "mask": (2, 2)}


def _check_point_count(shape: Shape, count: int) -> None:
    if shape.shape_type not in _POINT_COUNTS:
        raise ValueError(f"shape {shape.label!r} has shape_type {shape.shape_type!r}, which Labelme does not know")
    low, high = _POINT_COUNTS[shape.shape_type]
    if count < low or (high is not None and count > high):
        wanted = f"{low}" if low == high else f"at least {low}"
        raise ValueError(f"{shape.shape_type} shape {shape.label!r} needs {wanted} points, has {count}")


def _mask_shape_pixels(shape: Shape, height: int, width: int) -> np.ndarray:
    """A "mask" shape: its bitmap pasted at the box's top-left corner, as Labelme does."""
    _check_point_count(shape, len(shape.points))
    bitmap = shape.mask_array()
    if bitmap is None:
        raise ValueError(f"mask shape {shape.label!r} has no mask bitmap")
    (x1, y1), (x2, y2) = np.asarray(shape.points).astype(int)
    result = np.zeros((int(height), int(width)), dtype=bool)
    result[y1:y2 + 1, x1:x2 + 1] = bitmap  # numpy raises if the box and bitmap disagree, as in Labelme
    return result


def _polygons_for(region: np.ndarray, target: np.ndarray, depth: int) -> list[Polygon]:
    """Polygons that paint `region` (part of `target`) where the canvas is blank.

    Each outer fill also covers the background inside it, so those pixels are traced as holes;
    target pixels a hole polygon erases (islands, parts behind a diagonal pinch) are painted
    again by the recursion, which is drawn after the hole.
    """
    polygons: list[Polygon] = []
    if depth > _MAX_DEPTH or not region.any():
        return polygons
    height, width = region.shape
    for outer in _outer_contours(region):
        filled = polygons_to_mask([Polygon(outer)], height, width)
        holes = _outer_contours(filled & ~target)
        polygons.append(Polygon(outer, holes))
        erased = polygons_to_mask([Polygon(hole) for hole in holes], height, width) & target
        polygons.extend(_polygons_for(erased, target, depth + 1))
    return polygons


def _outer_contours(region: np.ndarray) -> list[np.ndarray]:
    """Outermost boundaries of the 8-connected components, through boundary pixel centres."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    result = [contour.reshape(-1, 2).astype(np.int32) for contour in contours]
    # Largest first, a stable order so files do not churn between saves.
    result.sort(key=lambda c: (-cv2.contourArea(c), -len(c), int(c[0, 1]), int(c[0, 0])))
    return result


def _draw(draw: PIL.ImageDraw.ImageDraw, points: np.ndarray, value: int) -> None:
    xy = [(int(x), int(y)) for x, y in points]
    while len(xy) < 3:  # a 1- or 2-pixel component: Labelme needs > 2 points, PIL draws it the same
        xy.append(xy[0])
    draw.polygon(xy=xy, outline=value, fill=value)


def _points(contour: np.ndarray) -> tuple[tuple[float, float], ...]:
    points = [(float(x), float(y)) for x, y in contour]
    while len(points) < 3:
        points.append(points[0])
    return tuple(points)
