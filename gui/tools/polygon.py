"""Polygon tool: click points to outline a region; it is added to the mask as one undo step.

Close the polygon by clicking its first point again, double-clicking, or pressing Enter.
Backspace removes the last point, Escape abandons the polygon. Points snap to pixel centres.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from gui.tools.base import Editor, Tool, image_to_scene, snapped

DRAW_COLOR = QColor(120, 255, 120)


class PolygonTool(Tool):
    name = "polygon"

    def __init__(self, editor: Editor) -> None:
        super().__init__(editor)
        self.points: list[tuple[int, int]] = []
        self._cursor_xy: tuple[int, int] | None = None
        self._item: QGraphicsPathItem | None = None

    def activate(self, view) -> None:
        super().activate(view)
        self._item = QGraphicsPathItem()
        pen = QPen(DRAW_COLOR)
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        self._item.setPen(pen)
        self._item.setZValue(10)
        view.scene().addItem(self._item)

    def deactivate(self) -> None:
        self.points.clear()
        if self._item is not None and self.view is not None:
            self.view.scene().removeItem(self._item)
        self._item = None
        super().deactivate()

    def refresh(self) -> None:
        """A slice switch abandons a half-drawn polygon: it belonged to the other slice."""
        self.points.clear()
        self._redraw()

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        xy = snapped(pos)
        if len(self.points) >= 3 and self._near_first(pos):
            self.finish()
            return
        if not self.points or self.points[-1] != xy:
            self.points.append(xy)
        self._redraw()

    def double_click(self, pos: QPointF, event: QMouseEvent) -> None:
        if len(self.points) >= 3:
            self.finish()

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        self._cursor_xy = snapped(pos)
        if self.points:
            self._redraw()

    def key_press(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and len(self.points) >= 3:
            self.finish()
            return True
        if key == Qt.Key.Key_Escape and self.points:
            self.points.clear()
            self._redraw()
            return True
        if key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._redraw()
            return True
        return False

    def finish(self) -> None:
        points, self.points = self.points, []
        self._redraw()
        if len(points) >= 3:
            self.editor.add_polygon(points)

    def _near_first(self, pos: QPointF) -> bool:
        first = image_to_scene(*self.points[0])
        return (first - pos).manhattanLength() <= self.view_tolerance()

    def _redraw(self) -> None:
        if self._item is None:
            return
        path = QPainterPath()
        if self.points:
            path.moveTo(image_to_scene(*self.points[0]))
            for xy in self.points[1:]:
                path.lineTo(image_to_scene(*xy))
            if self._cursor_xy is not None:
                path.lineTo(image_to_scene(*self._cursor_xy))
            r = self.view_tolerance(3.0)
            for xy in self.points:
                path.addEllipse(image_to_scene(*xy), r, r)
        self._item.setPath(path)
