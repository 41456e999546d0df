"""The open case as the GUI edits it: Qt signals over core's OpenCase, one undo stack per slice, and the
editing operations the tools call (their "editor"). Views subscribe to the signals and never change an
annotation behind the session's back.

Every change of the case (a tool edit, undo, redo, a prediction, a status) arrives from the OpenCase as
one SliceChange and leaves as signals: `mask_changed(index, region)` when pixels changed (region is the
box to repaint), `status_changed(index)` always, and `edited()` so the window schedules a draft.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup

from core.annotation.edits import MaskChange
from core.annotation.seeded_fill import add_bone, remove_region
from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.workspace import OpenCase, SliceChange
from gui.undo import SliceUndoStacks

MIN_RADIUS, MAX_RADIUS = 1, 100


class CaseSession(QObject):
    mask_changed = Signal(int, object)  # slice index, changed region (row slice, col slice)
    status_changed = Signal(int)  # slice index whose status, confidence or saved state changed
    brush_radius_changed = Signal(int)
    edited = Signal()  # something needs a draft

    def __init__(self, case: OpenCase, undo_group: QUndoGroup, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case = case
        self.volume = case.volume
        self.undo = SliceUndoStacks(undo_group)
        self.current = case.last_slice
        self.brush_radius = 6
        self.threshold_enabled = False
        self.threshold_hu = 250
        self.min_island = 20
        self._stroke = None
        self._stroke_text = ""
        case.add_listener(self._on_change)
        self.undo.activate(self.current)

    def close(self) -> None:
        """The case is no longer shown: stop listening and drop the undo history."""
        self.end_stroke()
        self.case.remove_listener(self._on_change)
        self.undo.clear()

    # --- slices --------------------------------------------------------------------------------------
    @property
    def num_slices(self) -> int:
        return self.case.num_slices

    @property
    def annotations(self) -> dict[int, SliceAnnotation]:
        return self.case.annotations

    def annotation(self, index: int | None = None) -> SliceAnnotation:
        """The slice's annotation (the current slice by default), created empty on first use."""
        return self.case.annotation(self.current if index is None else index)

    def status(self, index: int) -> SliceStatus:
        return self.case.status(index)

    def set_current(self, index: int) -> None:
        self.end_stroke()
        self.current = min(max(index, 0), self.num_slices - 1)
        self.undo.activate(self.current)
        self.case.last_slice = self.current

    def _on_change(self, change: SliceChange) -> None:
        if change.region is not None:
            self.mask_changed.emit(change.index, change.region)
        self.status_changed.emit(change.index)
        self.edited.emit()

    def _record(self, change: MaskChange | None, text: str) -> bool:
        return self.undo.push(self.current, self.annotation(), change, text)

    # --- what arrives from outside the tools -----------------------------------------------------------
    def take_prediction(self, index: int, mask: np.ndarray, confidence: float | None = None,
                        overwrite: bool = False, merge_key=None) -> bool:
        """Show a model's mask on a slice as one undo step (merged with the step before it that has the same
        `merge_key`); False when the slice is kept (human work, a stroke in progress)."""
        if self.case.keeps(index, overwrite):
            return False
        annotation = self.case.annotation(index)
        change = self.case.apply_prediction(index, mask, confidence, overwrite)
        self.undo.push(index, annotation, change, "Segment slice", merge_key)
        return True

    def apply_click(self, masks: dict[int, np.ndarray], text: str, allow_human: bool = False) -> list[int]:
        """A 3-D click's new masks {slice index: mask} as ONE undo step (pushed on the slice on screen); the slices
        written, which become EDITED. Slices a person edited or reviewed are kept unless `allow_human`: the
        rule a prediction and propagation ask (`OpenCase.keeps`)."""
        from gui.multi_slice import MultiSliceCommand  # gui.multi_slice imports this module

        self.end_stroke()
        applied = []
        for index in sorted(masks):
            if self.case.keeps(index, overwrite=allow_human):
                continue
            annotation = self.case.annotation(index)
            change = annotation.set_mask(masks[index])
            if change is not None:
                applied.append((index, annotation, change))
        if applied:
            self.undo.stack(self.current).push(MultiSliceCommand(applied, text))
        return [index for index, _, _ in applied]

    def import_labels(self, labels: np.ndarray) -> list[int]:
        """Imported labels replace whole slices; their undo history no longer applies."""
        indexes = self.case.import_labels(labels)
        for index in indexes:
            self.undo.stack(index).clear()
        return indexes

    # --- polygon editing (gui/tools/polygon.py, vertex_edit.py) ---------------------------------
    def polygons(self) -> list:
        return self.annotation().polygons

    def add_polygon(self, points) -> bool:
        return self._record(self.annotation().add_polygon(np.asarray(points, float)), "Add polygon")

    def move_vertex(self, poly: int, ring: int, vertex: int, x: float, y: float) -> bool:
        return self._record(self.annotation().move_vertex(poly, vertex, x, y, ring=ring), "Move vertex")

    def insert_vertex(self, poly: int, ring: int, edge: int, x: float, y: float) -> bool:
        return self._record(self.annotation().insert_vertex(poly, edge, x, y, ring=ring), "Insert vertex")

    def delete_vertex(self, poly: int, ring: int, vertex: int) -> bool:
        return self._record(self.annotation().delete_vertex(poly, vertex, ring=ring), "Delete vertex")

    def move_polygon(self, poly: int, dx: float, dy: float) -> bool:
        return self._record(self.annotation().translate_polygon(poly, dx, dy), "Move polygon")

    def delete_polygon(self, poly: int) -> bool:
        return self._record(self.annotation().delete_polygon(poly), "Delete polygon")

    # --- brush and eraser (gui/tools/brush.py) ---------------------------------------------------
    def set_brush_radius(self, radius: int) -> None:
        radius = min(max(int(radius), MIN_RADIUS), MAX_RADIUS)
        if radius != self.brush_radius:
            self.brush_radius = radius
            self.brush_radius_changed.emit(radius)

    def begin_stroke(self, erase: bool) -> None:
        annotation = self.annotation()
        threshold = self.threshold_enabled and not erase
        hu = self.volume.hu[self.current] if threshold else None
        self._stroke = annotation.begin_stroke(self.brush_radius, 0 if erase else 1, hu,
                                               float(self.threshold_hu) if threshold else None)
        self._stroke_text = "Erase" if erase else "Paint"

    def stroke_to(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._stroke.add_point(x, y)

    def end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            self._record(stroke.finish(), self._stroke_text)

    # --- whole-slice operations ------------------------------------------------------------------
    def fill_holes(self) -> bool:
        return self._record(self.annotation().fill_holes(), "Fill holes")

    def remove_islands(self) -> bool:
        return self._record(self.annotation().remove_small_islands(self.min_island), "Remove small islands")

    def copy_from(self, offset: int) -> bool:
        """Take the mask of slice current+offset; False when there is no such slice."""
        source = self.current + offset
        if not 0 <= source < self.num_slices:
            return False
        other = self.annotations.get(source)
        mask = other.mask if other is not None else np.zeros(self.volume.shape[1:], np.uint8)
        return self._record(self.annotation().set_mask(mask), f"Copy from slice {source + 1}")

    def clear(self) -> bool:
        return self._record(self.annotation().clear(), "Clear slice")

    def seeded_fill(self, x: int, y: int, remove: bool = False) -> bool:
        """G tool: add the bone connected to pixel (x, y) above the HU threshold within the brush radius, or
        (`remove`) take away the labelled region under it; one undo step. False when nothing changed."""
        annotation = self.annotation()
        if remove:
            change = remove_region(annotation, y, x, self.brush_radius)
        else:
            change = add_bone(annotation, self.volume.hu[self.current], y, x, self.brush_radius,
                              float(self.threshold_hu))
        return self._record(change, "Remove region" if remove else "Seeded fill")

    def toggle_reviewed(self) -> SliceStatus:
        """R: mark the slice reviewed, or back to what its annotation says when it already was."""
        return self.case.toggle_reviewed(self.current)
