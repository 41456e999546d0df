"""The slice view: a QGraphicsView showing one CT slice with the mask overlay on top.

Navigation belongs to the view: wheel = next/previous slice, Ctrl+wheel = zoom at the cursor,
middle-drag or Space+left-drag = pan, right-drag = window/level. Everything else from the mouse goes to
the active editing tool (gui/tools). Zoom and pan live in the view transform, so switching slices (which
only swaps pixmaps) keeps them.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from core.windowing import Window

MIN_ZOOM, MAX_ZOOM = 0.05, 64.0
WHEEL_ZOOM_STEP = 1.25


def dragged_window(window: Window, dx: float, dy: float) -> Window:
    """What a right-drag of (dx, dy) view pixels does to the window/level, in every view: up/down moves the
    level, left/right the width, both faster for a wide window."""
    scale = max(window.width, 50.0) / 300.0
    return window.adjusted(dy * scale, dx * scale)


class OverlayItem(QGraphicsItem):
    """The mask overlay: RGBA pixels in an array that a QImage shares; a patch repaints only its own box."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.set_pixels(np.zeros((1, 1, 4), np.uint8))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        return QRectF(0, 0, self._rgba.shape[1], self._rgba.shape[0])

    def paint(self, painter: QPainter, option, widget=None) -> None:
        rect = QRectF(option.exposedRect.toAlignedRect()).intersected(self.boundingRect())
        painter.drawImage(rect, self.image, rect)

    def set_pixels(self, rgba: np.ndarray) -> None:
        rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
        if rgba.shape != getattr(self, "_rgba", rgba).shape:
            self.prepareGeometryChange()
        rows, cols = rgba.shape[:2]
        self._rgba = rgba  # the QImage reads this memory: keep it alive
        self.image = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
        self.update()

    def patch(self, box: tuple[slice, slice], rgba: np.ndarray) -> None:
        self._rgba[box] = rgba
        self.update(QRectF(box[1].start, box[0].start, box[1].stop - box[1].start, box[0].stop - box[0].start))


SCALE_BAR_STEPS_MM = (1, 2, 5, 10, 20, 50, 100)
SCALE_BAR_MAX_PX = 140  # the bar is the longest round length up to this many screen pixels


def scale_bar(mm_per_screen_px: float) -> tuple[int, float] | None:
    """The scale bar to draw: (length in mm, length in screen pixels), or None when even 1 mm is too long."""
    fitting = [mm for mm in SCALE_BAR_STEPS_MM if mm / mm_per_screen_px <= SCALE_BAR_MAX_PX]
    return (fitting[-1], fitting[-1] / mm_per_screen_px) if fitting else None


class SliceView(QGraphicsView):
    slice_step = Signal(int)  # +1 = next slice (toward the feet), -1 = previous
    cursor_moved = Signal(float, float)  # scene coordinates (x = column, y = row); (-1, -1) when outside
    zoom_changed = Signal(float)
    window_drag = Signal(float, float)  # mouse movement (dx, dy) in view pixels during a right-drag

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sliceView")
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(12, 12, 14))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Only what changed is repainted: a brush dab repaints its own box, not the whole view (decision 146).
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # drops go to the main window
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.overlay_item = OverlayItem()
        self.overlay_item.setZValue(1)
        self.scene().addItem(self.image_item)
        self.scene().addItem(self.overlay_item)
        self.tool = None
        self.mm_per_pixel: float | None = None  # the CT's column spacing; None when unknown (no scale bar)
        self.caption: tuple[str | None, tuple[str, str, str, str] | None] | None = None  # title, edge letters
        self._image_size: tuple[int, int] | None = None
        self._fit_mode = True
        self._space_held = False
        self._drag: str | None = None  # "pan" | "window" | None
        self._last_pos = QPoint()

    # --- content ---------------------------------------------------------------------------------
    def set_image(self, image: QImage) -> None:
        size = (image.width(), image.height())
        self.image_item.setPixmap(QPixmap.fromImage(image))
        if size != self._image_size:
            self._image_size = size
            w, h = size
            # A margin around the image lets the user pan it anywhere, even zoomed out.
            self.scene().setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))
            self.fit_to_window()

    def set_overlay(self, rgba: np.ndarray) -> None:
        """The whole overlay: RGBA uint8 [rows, cols, 4] (gui/overlay.py)."""
        self.overlay_item.set_pixels(rgba)

    def patch_overlay(self, box: tuple[slice, slice], rgba: np.ndarray) -> None:
        """Part of the overlay after a change: only `box` is repainted."""
        self.overlay_item.patch(box, rgba)

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_item.setVisible(visible)

    def image_rect(self) -> QRectF:
        return self.image_item.boundingRect()

    # --- zoom and pan ----------------------------------------------------------------------------
    def zoom(self) -> float:
        return float(self.transform().m11())

    def fit_to_window(self) -> None:
        if self._image_size is None:
            return
        self.fitInView(self.image_rect(), Qt.AspectRatioMode.KeepAspectRatio)
        self._fit_mode = True
        self.zoom_changed.emit(self.zoom())

    def one_to_one(self) -> None:
        self.zoom_at(1.0 / max(self.zoom(), 1e-9), self.viewport().rect().center())

    def zoom_at(self, factor: float, view_pos: QPoint) -> None:
        """Scale by ``factor`` keeping the scene point under ``view_pos`` fixed."""
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        factor = target / self.zoom()
        anchor = self.mapToScene(view_pos)
        self.scale(factor, factor)
        moved = self.mapFromScene(anchor) - view_pos
        self.pan_by(-moved.x(), -moved.y())
        self._fit_mode = False
        self.zoom_changed.emit(self.zoom())

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the content by (dx, dy) view pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() - int(round(dx)))
        v.setValue(v.value() - int(round(dy)))
        if self.mm_per_pixel is not None:
            self.viewport().update()  # a scroll moves the pixels; the scale bar stays where it was drawn

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit_to_window()

    def current_scale_bar(self) -> tuple[int, float] | None:
        """The scale bar shown now: (mm, screen pixels), or None (spacing unknown, no image, or zoomed far out)."""
        if self.mm_per_pixel is None or self._image_size is None:
            return None
        return scale_bar(self.mm_per_pixel / max(self.zoom(), 1e-9))

    def set_caption(self, title: str | None, edges: tuple[str, str, str, str] | None = None) -> None:
        """A title at the top left and the patient directions at the top, bottom, left and right (None: none)."""
        self.caption = (title, edges) if title or edges else None
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt)
        """The caption and the scale bar (bottom left), in screen pixels whatever the zoom."""
        if self.caption is not None:
            self._draw_caption(painter, *self.caption)
        bar = self.current_scale_bar()
        if bar is None:
            return
        mm, length = bar
        painter.save()
        painter.resetTransform()
        bottom = self.viewport().height() - 16
        pen = QPen(QColor(235, 235, 235), 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(16, bottom), QPointF(16 + length, bottom))
        for x in (16, 16 + length):
            painter.drawLine(QPointF(x, bottom - 5), QPointF(x, bottom))
        painter.drawText(QPointF(16, bottom - 8), f"{mm} mm")
        painter.restore()

    def _draw_caption(self, painter: QPainter, title: str | None, edges) -> None:
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(235, 235, 235))
        width, height = self.viewport().width(), self.viewport().height()
        metrics = painter.fontMetrics()
        if title:
            painter.drawText(QPointF(8, 6 + metrics.ascent()), title)
        if edges:
            top, bottom, left, right = edges
            painter.drawText(QPointF((width - metrics.horizontalAdvance(top)) / 2, 6 + metrics.ascent()), top)
            painter.drawText(QPointF((width - metrics.horizontalAdvance(bottom)) / 2, height - 6), bottom)
            painter.drawText(QPointF(6, (height + metrics.ascent()) / 2), left)
            painter.drawText(QPointF(width - 6 - metrics.horizontalAdvance(right), (height + metrics.ascent()) / 2),
                             right)
        painter.restore()

    # --- tool plumbing ---------------------------------------------------------------------------
    def set_tool(self, tool) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        if tool is not None:
            tool.activate(self)
            self.viewport().setCursor(tool.cursor())

    # --- events ----------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = WHEEL_ZOOM_STEP if delta > 0 else 1 / WHEEL_ZOOM_STEP
            self.zoom_at(factor, event.position().toPoint())
        else:
            self.slice_step.emit(-1 if delta > 0 else 1)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        self._last_pos = event.position().toPoint()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._drag = "pan"
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.RightButton and not self._tool_wants_right_button(event):
            self._drag = "window"
        elif self.tool is not None:
            self.tool.press(self.mapToScene(self._last_pos), event)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        delta = pos - self._last_pos
        self._last_pos = pos
        scene_pos = self.mapToScene(pos)
        self._emit_cursor(scene_pos)
        if self._drag == "pan":
            self.pan_by(delta.x(), delta.y())
            self._fit_mode = False
        elif self._drag == "window":
            self.window_drag.emit(float(delta.x()), float(delta.y()))
        elif self.tool is not None:
            self.tool.move(scene_pos, event)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag = None
            self.viewport().setCursor(self.tool.cursor() if self.tool else Qt.CursorShape.ArrowCursor)
        elif self.tool is not None:
            self.tool.release(self.mapToScene(event.position().toPoint()), event)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool is not None and event.button() == Qt.MouseButton.LeftButton:
            self.tool.double_click(self.mapToScene(event.position().toPoint()), event)
        event.accept()

    def leaveEvent(self, event) -> None:
        self.cursor_moved.emit(-1.0, -1.0)
        if self.tool is not None:
            self.tool.leave()
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.tool is not None and self.tool.key_press(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(self.tool.cursor() if self.tool else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def _tool_wants_right_button(self, event: QMouseEvent) -> bool:
        return self.tool is not None and self.tool.wants_right_button(self.mapToScene(event.position().toPoint()))

    def _emit_cursor(self, scene_pos: QPointF) -> None:
        if self._image_size and self.image_rect().contains(scene_pos):
            self.cursor_moved.emit(scene_pos.x(), scene_pos.y())
        else:
            self.cursor_moved.emit(-1.0, -1.0)
