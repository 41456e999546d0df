"""Round brush and eraser. A whole press-drag-release stroke is one undo step.

The cursor is a circle of the brush's true size in image pixels (it scales with zoom);
``[`` and ``]`` (actions in gui/actions.py) change the size. With "only above HU" on, the brush paints only pixels brighter than
the threshold, which follows bone quickly.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QMouseEvent, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem

from gui.tools.base import Editor, Tool, snapped

class BrushTool(Tool):
    name = "brush"
    erase = False

    def __init__(self, editor: Editor) -> None:
        super().__init__(editor)
        self._circle: QGraphicsEllipseItem | None = None
        self._painting = False
        self._last_xy: QPointF | None = None

    def activate(self, view) -> None:
        super().activate(view)
        self._circle = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 80, 80) if self.erase else QColor(255, 255, 255))
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        self._circle.setPen(pen)
        self._circle.setZValue(10)
        self._circle.setVisible(False)
        view.scene().addItem(self._circle)
        self.editor.brush_radius_changed.connect(self._update_circle)

    def deactivate(self) -> None:
        self.editor.brush_radius_changed.disconnect(self._update_circle)
        if self._circle is not None and self.view is not None:
            self.view.scene().removeItem(self._circle)
        self._circle = None
        if self._painting:
            self.editor.end_stroke()
            self._painting = False
        super().deactivate()

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.BlankCursor)

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._painting = True
        self.editor.begin_stroke(erase=self.erase)
        self.editor.stroke_to(*snapped(pos))
        self._show_circle(pos)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        self._show_circle(pos)
        if self._painting:
            self.editor.stroke_to(*snapped(pos))

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._painting and event.button() == Qt.MouseButton.LeftButton:
            self._painting = False
            self.editor.end_stroke()

    def leave(self) -> None:
        if self._circle is not None:
            self._circle.setVisible(False)

    def _show_circle(self, pos: QPointF) -> None:
        if self._circle is None:
            return
        self._last_xy = pos
        x, y = snapped(pos)
        r = self.editor.brush_radius + 0.5
        self._circle.setRect(QRectF(x + 0.5 - r, y + 0.5 - r, 2 * r, 2 * r))
        self._circle.setVisible(True)

    def _update_circle(self, _radius: int) -> None:
        if self._last_xy is not None:
            self._show_circle(self._last_xy)


class EraserTool(BrushTool):
    name = "eraser"
    erase = True
