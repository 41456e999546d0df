"""The open case as the GUI edits it: the CT, its workspace store, one SliceAnnotation per slice and
one undo stack per slice. The editing tools talk to this object (their "editor"); views subscribe to
its signals and never change an annotation behind its back.

Every change of a mask (tool edit, undo, redo) arrives through the annotation's listener, which marks
the slice dirty (unsaved), derives its status and queues it for the next autosave.
"""
from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup

from core.annotation.slice_annotation import SliceAnnotation
from core.volume import Volume
from core.workspace import CaseStore
from core.annotation.slice_status import SliceStatus
from gui.undo import SliceUndoStacks

log = logging.getLogger(__name__)

MIN_RADIUS, MAX_RADIUS = 1, 100


class CaseSession(QObject):
    annotation_changed = Signal(int)  # slice index whose mask changed
    status_changed = Signal(int)  # slice index whose status or saved state changed
    brush_radius_changed = Signal(int)
    edited = Signal()  # something needs autosaving

    def __init__(self, volume: Volume, store: CaseStore, annotations: dict[int, SliceAnnotation],
                 undo_group: QUndoGroup, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume = volume
        self.store = store
        self.annotations: dict[int, SliceAnnotation] = {}
        self._listeners: dict[int, object] = {}
        self.undo = SliceUndoStacks(undo_group)
        self.pending_autosave: set[int] = set(store.dirty_indexes())
        for index, annotation in annotations.items():
            self._adopt(index, annotation)
        self.current = min(max(store.last_slice, 0), volume.num_slices - 1)
        self.brush_radius = 6
        self.threshold_enabled = False
        self.threshold_hu = 250
        self.min_island = 20
        self._stroke = None
        self.undo.activate(self.current)

    # --- slices and annotations ------------------------------------------------------------------
    @property
    def num_slices(self) -> int:
        return self.volume.num_slices

    def annotation(self, index: int | None = None) -> SliceAnnotation:
        """The slice's annotation, created empty on first use."""
        index = self.current if index is None else index
        if index not in self.annotations:
            _, rows, cols = self.volume.shape
            self._adopt(index, SliceAnnotation(rows, cols))
        return self.annotations[index]

    def set_current(self, index: int) -> None:
        if self._stroke is not None:
            self.end_stroke()
        self.current = min(max(index, 0), self.num_slices - 1)
        self.undo.activate(self.current)
        self.store.last_slice = self.current

    def status(self, index: int) -> SliceStatus:
        return self.store.status(index)

    def statuses(self) -> list[SliceStatus]:
        return [self.store.status(i) for i in range(self.num_slices)]

    def is_unsaved(self, index: int) -> bool:
        return self.store.is_dirty(index)

    def replace_annotations(self, annotations: dict[int, SliceAnnotation]) -> None:
        """Imported labels replace whole slices; their undo history no longer applies."""
        for index, annotation in annotations.items():
            old = self.annotations.get(index)
            if old is not None:
                old.remove_listener(self._listeners.pop(index))
            self.undo.stack(index).clear()
            self._adopt(index, annotation)
            self.pending_autosave.add(index)
            self.annotation_changed.emit(index)
            self.status_changed.emit(index)
        self.edited.emit()

    def _adopt(self, index: int, annotation: SliceAnnotation) -> None:
        listener = lambda region, i=index: self._on_annotation_changed(i)  # noqa: E731
        annotation.add_listener(listener)
        self._listeners[index] = listener
        self.annotations[index] = annotation

    def _on_annotation_changed(self, index: int) -> None:
        annotation = self.annotations[index]
        if self.store.status(index) is not SliceStatus.REVIEWED:
            self.store.set_status(index, annotation.source)
        self.store.mark_dirty(index)
        self.pending_autosave.add(index)
        self.annotation_changed.emit(index)
        self.status_changed.emit(index)
        self.edited.emit()

    def _record(self, change, text: str) -> bool:
        return self.undo.push(self.current, self.annotation(), change, text)

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

    @property
    def stroke_open(self) -> bool:
        """True while a brush or eraser stroke is being painted (between press and release)."""
        return self._stroke is not None

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
        return self._record(self.annotation().copy_from(mask), f"Copy from slice {source + 1}")

    def clear(self) -> bool:
        return self._record(self.annotation().clear(), "Clear slice")

    def toggle_reviewed(self) -> SliceStatus:
        """R: mark the slice reviewed, or back to what its annotation says when it already was."""
        index = self.current
        if self.store.status(index) is SliceStatus.REVIEWED:
            self.store.set_status(index, self.annotation(index).source)
        else:
            self.annotation(index)
            self.store.set_status(index, SliceStatus.REVIEWED)
        self.store.mark_dirty(index)
        self.pending_autosave.add(index)
        self.status_changed.emit(index)
        self.edited.emit()
        return self.store.status(index)

    # --- autosave ------------------------------------------------------------------------------
    def autosave(self) -> list[int]:
        """Snapshot every slice changed since the last autosave; raises SaveError (slices stay pending)."""
        written = []
        for index in sorted(self.pending_autosave):
            self.store.autosave(index, self.annotation(index))
            self.pending_autosave.discard(index)
            written.append(index)
        self.store.flush()
        return written

    def snapshots(self) -> dict[int, SliceAnnotation]:
        """Copies of the unsaved slices, safe to save from a worker thread."""
        return {i: self.annotation(i).copy() for i in self.store.dirty_indexes()}
