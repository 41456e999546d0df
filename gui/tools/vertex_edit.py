"""Edit polygons: drag a vertex, click an edge to insert a vertex there (and drag it), right-click or
Delete a vertex, drag the inside of a polygon to move it, Delete with no vertex under the cursor
removes the selected polygon. Each gesture is one undo step; the mask follows (one truth).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QCursor, QKeyEvent, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from gui.tools.base import Editor, Tool, image_to_scene, scene_to_image, snapped

OUTLINE = QColor(255, 255, 255)
SELECTED = QColor(255, 230, 0)
HANDLE_PX = 3.5


@dataclass
class Hit:
    kind: str  # "vertex" | "edge" | "inside"
    polygon: int
    ring: int = 0  # 0 = outer boundary, k = hole k-1
    index: int = 0  # vertex index, or the edge's first vertex


def polygon_rings(polygon) -> list[np.ndarray]:
    return [np.asarray(polygon.outer, float)] + [np.asarray(h, float) for h in polygon.holes]


def _point_in_ring(x: float, y: float, ring: np.ndarray) -> bool:
    xs, ys = ring[:, 0], ring[:, 1]
    xs2, ys2 = np.roll(xs, -1), np.roll(ys, -1)
    crosses = (ys > y) != (ys2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = xs + (y - ys) * (xs2 - xs) / (ys2 - ys)
    return bool(np.count_nonzero(crosses & (x < x_cross)) % 2)


def hit_test(polygons, x: float, y: float, tolerance: float) -> Hit | None:
    """What of the polygons lies under image point (x, y): a vertex first, then an edge, then an inside."""
    best: tuple[float, Hit] | None = None
    for p, polygon in enumerate(polygons):
        for r, ring in enumerate(polygon_rings(polygon)):
            d = np.hypot(ring[:, 0] - x, ring[:, 1] - y)
            i = int(np.argmin(d))
            if d[i] <= tolerance and (best is None or d[i] < best[0]):
                best = (float(d[i]), Hit("vertex", p, r, i))
    if best is not None:
        return best[1]
    for p, polygon in enumerate(polygons):
        for r, ring in enumerate(polygon_rings(polygon)):
            a, b = ring, np.roll(ring, -1, axis=0)
            ab = b - a
            length2 = np.maximum((ab ** 2).sum(axis=1), 1e-12)
            t = np.clip(((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / length2, 0, 1)
            d = np.hypot(a[:, 0] + t * ab[:, 0] - x, a[:, 1] + t * ab[:, 1] - y)
            i = int(np.argmin(d))
            if d[i] <= tolerance and (best is None or d[i] < best[0]):
                best = (float(d[i]), Hit("edge", p, r, i))
    if best is not None:
        return best[1]
    for p, polygon in enumerate(polygons):
        rings = polygon_rings(polygon)
        if _point_in_ring(x, y, rings[0]) and not any(_point_in_ring(x, y, h) for h in rings[1:]):
            return Hit("inside", p)
    return None


class VertexEditTool(Tool):
    name = "edit"

    def __init__(self, editor: Editor) -> None:
        super().__init__(editor)
        self._polygons: list = []
        self._selected: int | None = None
        self._hover: Hit | None = None
        self._drag: Hit | None = None
        self._drag_start: tuple[int, int] | None = None
        self._drag_xy: tuple[int, int] | None = None
        self._item: QGraphicsPathItem | None = None
        self._selected_item: QGraphicsPathItem | None = None

    def activate(self, view) -> None:
        super().activate(view)
        self._item = self._make_item(OUTLINE, 10)
        self._selected_item = self._make_item(SELECTED, 11)
        self.refresh()

    def deactivate(self) -> None:
        for item in (self._item, self._selected_item):
            if item is not None and self.view is not None:
                self.view.scene().removeItem(item)
        self._item = self._selected_item = None
        self._drag = None
        super().deactivate()

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.ArrowCursor)

    def refresh(self) -> None:
        self._polygons = self.editor.polygons()
        if self._selected is not None and self._selected >= len(self._polygons):
            self._selected = None
        self._drag = None
        self._redraw()

    def _hit(self, pos: QPointF) -> Hit | None:
        x, y = scene_to_image(pos)
        return hit_test(self._polygons, x, y, self.view_tolerance())

    def wants_right_button(self, pos: QPointF) -> bool:
        hit = self._hit(pos)
        return hit is not None and hit.kind == "vertex"

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        hit = self._hit(pos)
        if event.button() == Qt.MouseButton.RightButton:
            if hit is not None and hit.kind == "vertex":
                self.editor.delete_vertex(hit.polygon, hit.ring, hit.index)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._selected = hit.polygon if hit is not None else None
        self._drag = hit
        self._drag_start = self._drag_xy = snapped(pos)
        self._redraw()

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._drag is None:
            self._hover = self._hit(pos)
            return
        self._drag_xy = snapped(pos)
        self._redraw()

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._drag is None:
            return
        drag, self._drag = self._drag, None
        x, y = snapped(pos)
        moved = (x, y) != self._drag_start
        if drag.kind == "vertex" and moved:
            self.editor.move_vertex(drag.polygon, drag.ring, drag.index, x, y)
        elif drag.kind == "edge":
            self.editor.insert_vertex(drag.polygon, drag.ring, drag.index, x, y)
        elif drag.kind == "inside" and moved:
            sx, sy = self._drag_start
            self.editor.move_polygon(drag.polygon, x - sx, y - sy)
        else:
            self._redraw()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() not in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return False
        if self._hover is not None and self._hover.kind == "vertex":
            hover, self._hover = self._hover, None
            self.editor.delete_vertex(hover.polygon, hover.ring, hover.index)
            return True
        if self._selected is not None:
            selected, self._selected = self._selected, None
            self.editor.delete_polygon(selected)
            return True
        return False

    # --- drawing ---------------------------------------------------------------------------------
    def _make_item(self, color: QColor, z: int) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        pen = QPen(color)
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        item.setPen(pen)
        item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        item.setZValue(z)
        self.view.scene().addItem(item)
        return item

    def _preview_rings(self, p: int) -> list[np.ndarray]:
        rings = [ring.copy() for ring in polygon_rings(self._polygons[p])]
        drag = self._drag
        if drag is None or drag.polygon != p or self._drag_xy is None:
            return rings
        x, y = self._drag_xy
        if drag.kind == "vertex":
            rings[drag.ring][drag.index] = (x, y)
        elif drag.kind == "edge":
            rings[drag.ring] = np.insert(rings[drag.ring], drag.index + 1, (x, y), axis=0)
        elif drag.kind == "inside":
            sx, sy = self._drag_start
            rings = [ring + (x - sx, y - sy) for ring in rings]
        return rings

    def _redraw(self) -> None:
        if self._item is None:
            return
        normal, selected = QPainterPath(), QPainterPath()
        r = self.view_tolerance(HANDLE_PX)
        for p in range(len(self._polygons)):
            path = selected if p == self._selected else normal
            for ring in self._preview_rings(p):
                path.moveTo(image_to_scene(*ring[0]))
                for x, y in ring[1:]:
                    path.lineTo(image_to_scene(x, y))
                path.closeSubpath()
                for x, y in ring:
                    path.addRect(x + 0.5 - r, y + 0.5 - r, 2 * r, 2 * r)
        self._item.setPath(normal)
        self._selected_item.setPath(selected)
