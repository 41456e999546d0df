"""The editable mandible annotation of one CT slice: a mask that is the one truth, polygons derived from it.

Every editing operation changes the mask, returns the MaskChange it applied (None when nothing
changed) and notifies listeners with the changed region. The open case's history
(core/workspace/history.py) keeps each returned change in an entry whose undo/redo call `undo_change` /
`redo_change`; changes are undone in the reverse order they were made.

Polygons are derived lazily from the mask (core.annotation.polygons.mask_to_polygons) and cached
until the next change. A vertex edit rasterizes the polygon set before and after the edit and
writes only the pixels whose rasterization changed, so pixels far from the edited vertex keep
their exact values and repeated edits cannot drift.

Coordinates follow Labelme: x = column, y = row, pixel (row r, col c) has its centre at (c, r).
Polygon vertices snap to pixel centres (integers), as the saved polygons do, so what a vertex
edit rasterizes is what Labelme rasterizes from the saved file.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np

from core.annotation import morphology
from core.annotation.edits import MaskChange, Region, make_change, union_region
from core.annotation.polygons import Polygon, mask_to_polygons, polygons_to_mask
from core.annotation.slice_status import SliceStatus

# What an annotation itself can say about its pixels; REVIEWED is a person's verdict on top of it.
SOURCES = (SliceStatus.EMPTY, SliceStatus.PREDICTED, SliceStatus.EDITED, SliceStatus.INTERPOLATED,
           SliceStatus.PROPAGATED)

Listener = Callable[[Region], None]


class SliceAnnotation:
    """Mask (uint8 0/1), per-pixel human-edited flags and source of one slice.

    The source is the SliceStatus the annotation itself implies: EDITED once a human changed it,
    PREDICTED for a model's mask, EMPTY for nothing. Without `source`, it is EDITED when any pixel
    is flagged edited, PREDICTED when the mask has pixels, else EMPTY.

    `mask` and `edited` are exposed for reading and drawing; change them only through the
    operations below so that undo, polygons and listeners stay in step.
    """

    def __init__(self, height: int, width: int, mask: np.ndarray | None = None,
                 edited: np.ndarray | None = None, source: SliceStatus | None = None):
        self.mask = np.zeros((height, width), np.uint8) if mask is None else _as_mask(mask, (height, width))
        self.edited = (np.zeros((height, width), bool) if edited is None
                       else np.asarray(edited, bool).reshape(height, width).copy())
        if source is None:
            source = (SliceStatus.EDITED if self.edited.any()
                      else SliceStatus.PREDICTED if self.mask.any() else SliceStatus.EMPTY)
        if source not in SOURCES:
            raise ValueError(f"an annotation's source is one of {[s.value for s in SOURCES]}, not {source!r}")
        self.source = SliceStatus(source)
        self._polygons: list[Polygon] | None = None
        self._listeners: list[Listener] = []
        self._stroke: BrushStroke | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape  # type: ignore[return-value]

    @property
    def is_empty(self) -> bool:
        return not self.mask.any()

    @property
    def stroke_open(self) -> bool:
        """True between begin_stroke and finish: a brush or eraser drag is being painted."""
        return self._stroke is not None

    @property
    def polygons(self) -> list[Polygon]:
        """The mask's outlines (outer ring + holes per connected region), cached until the next change."""
        if self._polygons is None:
            self._polygons = mask_to_polygons(self.mask)
        return self._polygons

    def copy(self) -> "SliceAnnotation":
        """An independent snapshot (no listeners), e.g. to save from a worker thread. An empty mask or edited
        flags are not copied but made anew (zeros the system maps only when written): saving a whole predicted
        CBCT copies its mandible, not 600 slices of nothing."""
        return SliceAnnotation(self.shape[0], self.shape[1], self.mask if self.mask.any() else None,
                               self.edited if self.edited.any() else None, self.source)

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(region)` after every change of the mask, including undo, redo and brush dabs."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    # -- undo / redo -------------------------------------------------------------------------
    def undo_change(self, change: MaskChange) -> None:
        """Put back the state before `change` (the most recent change not yet undone)."""
        change.revert(self.mask, self.edited)
        if change.old_source is not None:
            self.source = change.old_source
        self._changed(change.bbox)

    def redo_change(self, change: MaskChange) -> None:
        """Re-apply `change` after it was undone."""
        change.apply(self.mask, self.edited)
        if change.new_source is not None:
            self.source = change.new_source
        self._changed(change.bbox)

    # -- brush / eraser ----------------------------------------------------------------------
    def begin_stroke(self, radius: float, value: int, hu: np.ndarray | None = None,
                     hu_min: float | None = None) -> "BrushStroke":
        """Start a brush (value 1) or eraser (value 0) drag; feed points, then `finish()` for one change.

        With `hu` (this slice's Hounsfield units) and `hu_min`, the brush paints only pixels with
        hu >= hu_min, which follows bone. The eraser ignores the threshold.
        """
        if self._stroke is not None:
            raise RuntimeError("a brush stroke is already in progress; finish it first")
        self._stroke = BrushStroke(self, radius, value, hu, hu_min)
        return self._stroke

    @contextmanager
    def stroke(self, radius: float, value: int, hu: np.ndarray | None = None,
               hu_min: float | None = None) -> Iterator["BrushStroke"]:
        """Context manager around begin_stroke/finish; the change is in `stroke.change` afterwards."""
        stroke = self.begin_stroke(radius, value, hu, hu_min)
        try:
            yield stroke
        finally:
            stroke.finish()

    def paint_disk(self, cx: float, cy: float, radius: float, value: int, hu: np.ndarray | None = None,
                   hu_min: float | None = None) -> MaskChange | None:
        """One round dab of the brush (value 1) or eraser (value 0) centred on (cx, cy)."""
        with self.stroke(radius, value, hu, hu_min) as stroke:
            stroke.add_point(cx, cy)
        return stroke.change

    def paint(self, region: Region, footprint: np.ndarray, value: int) -> bool:
        """One dab of the open stroke: set the `footprint` pixels of `region` to `value` (1 paint, 0 erase), flag
        the ones that changed human-edited; False when none changed. Only the open BrushStroke calls this."""
        if self._stroke is None:
            raise RuntimeError("paint only within a stroke (begin_stroke)")
        target = self.mask[region]
        flips = footprint & (target != value)
        if not flips.any():
            return False
        target[flips] = value
        self.edited[region] |= flips
        self.source = SliceStatus.EDITED
        self._changed(region)
        return True

    def close_stroke(self, stroke: "BrushStroke") -> MaskChange | None:
        """End the open stroke: the whole drag as one change (None when it painted nothing)."""
        if stroke is not self._stroke:
            raise RuntimeError("this stroke is not the annotation's open stroke")
        self._stroke = None
        if stroke.touched is None:
            return None
        return make_change(stroke.before_mask, self.mask, stroke.before_edited, self.edited, stroke.before_source,
                           self.source, within=stroke.touched)

    # -- whole-mask operations ---------------------------------------------------------------
    def clear(self) -> MaskChange | None:
        """Erase the whole slice."""
        return self._replace(np.zeros(self.shape, np.uint8))

    def set_mask(self, new_mask: np.ndarray) -> MaskChange | None:
        """A human edit that replaces the whole mask (copy from a neighbouring slice, seeded fill)."""
        return self._replace(_as_mask(new_mask, self.shape))

    def fill_holes(self) -> MaskChange | None:
        """Fill every hole enclosed by the mask."""
        return self._replace(morphology.fill_holes(self.mask))

    def remove_small_islands(self, min_pixels: int) -> MaskChange | None:
        """Delete 8-connected islands smaller than `min_pixels` pixels."""
        return self._replace(morphology.remove_small_islands(self.mask, min_pixels))

    def set_predicted(self, mask: np.ndarray) -> MaskChange | None:
        """Show a model's prediction: the mask is replaced, nothing is human-edited, source PREDICTED."""
        new_mask = _as_mask(mask, self.shape)
        new_edited = np.zeros(self.shape, bool)
        return self._commit(new_mask, new_edited, SliceStatus.PREDICTED)

    def set_carried(self, mask: np.ndarray, source: SliceStatus) -> MaskChange | None:
        """A mask carried from other slices (INTERPOLATED or PROPAGATED `source`): nothing is human-edited, so it
        is not training data until a person edits or reviews it."""
        if not source.is_carried:
            raise ValueError(f"a carried mask is interpolated or propagated, not {source.value}")
        return self._commit(_as_mask(mask, self.shape), np.zeros(self.shape, bool), source)

    def set_labels(self, mask: np.ndarray) -> MaskChange | None:
        """Human labels from a file (a NIfTI label map, Labelme JSON) replace the slice: every labelled pixel is
        human-edited, the source EDITED."""
        mask = _as_mask(mask, self.shape)
        return self._commit(mask, mask.astype(bool), SliceStatus.EDITED)

    # -- polygon operations ------------------------------------------------------------------
    def add_polygon(self, points: np.ndarray | Sequence[Sequence[float]]) -> MaskChange | None:
        """Add the area inside a clicked polygon (N x 2 (x, y) points, N >= 3) to the mask."""
        outer = _points(points)
        return self._replace(self.mask | _raster([Polygon(outer=outer, holes=[])], self.shape))

    def delete_polygon(self, poly_idx: int) -> MaskChange | None:
        """Remove polygon `poly_idx` (one connected region with its holes) from the mask."""
        polygons = list(self.polygons)
        self._check_index(polygons, poly_idx)
        del polygons[poly_idx]
        return self._edit_polygons(polygons)

    def translate_polygon(self, poly_idx: int, dx: float, dy: float) -> MaskChange | None:
        """Move a whole polygon (with its holes) by (dx, dy) pixels."""
        polygons = list(self.polygons)
        self._check_index(polygons, poly_idx)
        old = polygons[poly_idx]
        shift = np.array(_snap(dx, dy), float)
        polygons[poly_idx] = Polygon(outer=np.asarray(old.outer, float) + shift,
                                     holes=[np.asarray(h, float) + shift for h in old.holes])
        return self._edit_polygons(polygons)

    def move_vertex(self, poly_idx: int, vertex_idx: int, x: float, y: float, ring: int = 0) -> MaskChange | None:
        """Drag one vertex. ring 0 is the polygon's outer boundary, ring k >= 1 its hole k-1."""
        def edit(points: np.ndarray) -> np.ndarray:
            _check_vertex(points, vertex_idx)
            points[vertex_idx] = _snap(x, y)
            return points
        return self._edit_ring(poly_idx, ring, edit)

    def insert_vertex(self, poly_idx: int, edge_idx: int, x: float, y: float, ring: int = 0) -> MaskChange | None:
        """Insert a vertex at (x, y) on edge `edge_idx` (from vertex edge_idx to edge_idx + 1)."""
        def edit(points: np.ndarray) -> np.ndarray:
            _check_vertex(points, edge_idx)
            return np.insert(points, edge_idx + 1, _snap(x, y), axis=0)
        return self._edit_ring(poly_idx, ring, edit)

    def delete_vertex(self, poly_idx: int, vertex_idx: int, ring: int = 0) -> MaskChange | None:
        """Delete one vertex; deleting from a triangle removes the whole ring (region or hole)."""
        polygons = list(self.polygons)
        self._check_index(polygons, poly_idx)
        poly = polygons[poly_idx]
        rings = [np.asarray(poly.outer, float)] + [np.asarray(h, float) for h in poly.holes]
        self._check_index(rings, ring, "ring")
        _check_vertex(rings[ring], vertex_idx)
        if len(rings[ring]) > 3:
            return self._edit_ring(poly_idx, ring, lambda pts: np.delete(pts, vertex_idx, axis=0))
        if ring == 0:
            return self.delete_polygon(poly_idx)
        polygons[poly_idx] = Polygon(outer=rings[0], holes=[h for k, h in enumerate(rings[1:], 1) if k != ring])
        return self._edit_polygons(polygons)

    # -- internals ---------------------------------------------------------------------------
    def _edit_ring(self, poly_idx: int, ring: int, edit: Callable[[np.ndarray], np.ndarray]) -> MaskChange | None:
        polygons = list(self.polygons)
        self._check_index(polygons, poly_idx)
        poly = polygons[poly_idx]
        rings = [np.asarray(poly.outer, float).copy()] + [np.asarray(h, float).copy() for h in poly.holes]
        self._check_index(rings, ring, "ring")
        rings[ring] = edit(rings[ring])
        polygons[poly_idx] = Polygon(outer=rings[0], holes=rings[1:])
        return self._edit_polygons(polygons)

    def _edit_polygons(self, new_polygons: list[Polygon]) -> MaskChange | None:
        """Write only the pixels whose rasterization differs between the current and the edited polygon set."""
        before = _raster(self.polygons, self.shape)
        after = _raster(new_polygons, self.shape)
        return self._replace(np.where(before != after, after, self.mask).astype(np.uint8))

    def _replace(self, new_mask: np.ndarray) -> MaskChange | None:
        """A human edit: changed pixels become human-edited and the source becomes EDITED."""
        self._check_no_stroke()
        changed = new_mask != self.mask
        if not changed.any():
            return None
        return self._commit(new_mask, self.edited | changed, SliceStatus.EDITED)

    def _commit(self, new_mask: np.ndarray, new_edited: np.ndarray, new_source: SliceStatus) -> MaskChange | None:
        self._check_no_stroke()
        change = make_change(self.mask, new_mask, self.edited, new_edited, self.source, new_source)
        if change is not None:
            self.redo_change(change)
        return change

    def _changed(self, region: Region) -> None:
        self._polygons = None
        for listener in list(self._listeners):
            listener(region)

    def _check_no_stroke(self) -> None:
        if self._stroke is not None:
            raise RuntimeError("finish the brush stroke before another edit")

    @staticmethod
    def _check_index(items: Sequence, idx: int, what: str = "polygon") -> None:
        if not 0 <= idx < len(items):
            raise IndexError(f"{what} {idx} does not exist (there are {len(items)})")


class BrushStroke:
    """A brush or eraser drag in progress: each point paints a capsule from the previous point.

    Painting happens live (listeners see every dab, through `SliceAnnotation.paint`); `finish()` turns the whole
    drag into one MaskChange (`SliceAnnotation.close_stroke`), so the stroke is one undo step.
    """

    def __init__(self, annotation: SliceAnnotation, radius: float, value: int,
                 hu: np.ndarray | None, hu_min: float | None):
        if value not in (0, 1):
            raise ValueError("value must be 1 (brush) or 0 (eraser)")
        if (hu is None) != (hu_min is None) and value == 1:
            raise ValueError("give both hu and hu_min for a threshold brush, or neither")
        if hu is not None and np.shape(hu) != annotation.shape:
            raise ValueError(f"hu has shape {np.shape(hu)}, the slice is {annotation.shape}")
        self._annotation = annotation
        self.radius, self.value = float(radius), int(value)
        self._allowed = (np.asarray(hu) >= hu_min) if (value == 1 and hu is not None) else None
        self.before_mask = annotation.mask.copy()
        self.before_edited = annotation.edited.copy()
        self.before_source = annotation.source
        self._last: tuple[float, float] | None = None
        self.touched: Region | None = None  # the box every dab so far lies in
        self.change: MaskChange | None = None
        self.finished = False

    def add_point(self, x: float, y: float) -> Region | None:
        """Paint from the previous point to (x, y); returns the region it touched (None if outside)."""
        if self.finished:
            raise RuntimeError("this stroke is finished")
        x0, y0 = self._last if self._last is not None else (x, y)
        self._last = (float(x), float(y))
        found = morphology.segment_footprint(x0, y0, x, y, self.radius, self._annotation.shape)
        if found is None:
            return None
        region, footprint = found
        if self._allowed is not None:
            footprint = footprint & self._allowed[region]
        if not self._annotation.paint(region, footprint, self.value):
            return None
        self.touched = union_region(self.touched, region)
        return region

    def finish(self) -> MaskChange | None:
        """End the drag; the annotation keeps the paint and `change` holds it as one undo step."""
        if not self.finished:
            self.finished = True
            self.change = self._annotation.close_stroke(self)
        return self.change


def _as_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"mask has shape {mask.shape}, the slice is {tuple(shape)}")
    return (mask != 0).astype(np.uint8)


def _raster(polygons: Sequence[Polygon], shape: tuple[int, int]) -> np.ndarray:
    return polygons_to_mask(list(polygons), shape[0], shape[1]).astype(np.uint8)


def _points(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    outer = np.rint(np.asarray(points, float).reshape(-1, 2))
    if len(outer) < 3:
        raise ValueError("a polygon needs at least 3 points")
    return outer


def _snap(x: float, y: float) -> tuple[float, float]:
    return float(np.rint(x)), float(np.rint(y))


def _check_vertex(points: np.ndarray, idx: int) -> None:
    if not 0 <= idx < len(points):
        raise IndexError(f"vertex {idx} does not exist (the ring has {len(points)})")
