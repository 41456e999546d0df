"""One plane of the CT (axial, coronal or sagittal) with the mandible overlay and the crosshair.

It is the axial SliceView (navigation, zoom, pan, right-drag window/level) showing a reslice
rendered the same way: hu_to_display for the grey, overlay_rgba for the mask. Pixels are drawn
at their physical size (a 1.5 mm slice is 1.5 times as tall as a 1 mm pixel is wide), so the jaw
keeps its shape. A left click or drag moves the shared crosshair; the wheel steps the crosshair
through this plane's own axis.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen, QTransform
from PySide6.QtWidgets import QGraphicsLineItem

from core.volume import Volume
from core.windowing import Window, hu_to_display
from gui.overlay import OverlayStyle, gray_to_qimage, overlay_rgba
from gui.slice_view import SliceView
from gui.tools.base import Tool
from gui.views.crosshair import Crosshair, Point
from gui.views.planes import (LabelSource, Plane, image_shape, pixel_size, plane_image, plane_labels, to_image,
                              to_volume)

CROSSHAIR_RGB = (120, 255, 120)


class CrosshairTool(Tool):
    """Left click or drag: move the crosshair to the pixel under the mouse."""

    name = "crosshair"

    def press(self, pos: QPointF, event) -> None:
        self.editor.move_crosshair_to(pos)

    def move(self, pos: QPointF, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.editor.move_crosshair_to(pos)


class OrthoView(SliceView):
    def __init__(self, plane: Plane, volume: Volume, labels: LabelSource, crosshair: Crosshair,
                 window: Window, style: OverlayStyle | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{plane.name.lower()}View")
        self.plane, self.volume, self.labels, self.crosshair = plane, volume, labels, crosshair
        self.window = window
        self.style = style or OverlayStyle()
        self._index = -1
        height, width = pixel_size(volume.spacing, plane)
        base = min(height, width)
        self._scale = (width / base, height / base)  # scene units per image pixel (x, y)
        for item in (self.image_item, self.overlay_item):
            item.setTransform(QTransform.fromScale(*self._scale))
        self.lines = (QGraphicsLineItem(), QGraphicsLineItem())
        for line in self.lines:
            line.setPen(QPen(QColor(*CROSSHAIR_RGB, 200), 0))
            line.setZValue(2)
            self.scene().addItem(line)
        self.set_tool(CrosshairTool(self))
        self.set_caption(plane.title, plane.edges)
        self.slice_step.connect(self._step)
        crosshair.add_listener(self._on_crosshair)
        self._on_crosshair(crosshair.point)

    # --- what it shows ---------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Where this plane cuts its axis."""
        return self._index

    def image_rect(self) -> QRectF:
        return self.image_item.sceneBoundingRect()

    def set_image(self, image) -> None:
        super().set_image(image)
        rect = self.image_rect()
        self.scene().setSceneRect(rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height()))

    def set_window(self, window: Window) -> None:
        self.window = window
        self.render_image()

    def render_image(self) -> None:
        self.set_image(gray_to_qimage(hu_to_display(plane_image(self.volume.hu, self.plane, self._index),
                                                    self.window)))

    def render_overlay(self) -> None:
        mask, origin = plane_labels(self.labels, self.plane, self._index)
        self.set_overlay(overlay_rgba(mask, origin, self.style))
        self.set_overlay_visible(self.style.visible)

    def labels_changed(self, slices: set[int] | None = None, region=None) -> None:
        """Redraw the overlay if a change of `slices` (None: all) within the (row, col) box `region`
        (None: anywhere) crosses this plane."""
        if self.plane is Plane.AXIAL:
            crosses = slices is None or self._index in slices
        else:
            cut = region[self.plane.axis - 1] if region is not None else None
            crosses = cut is None or cut.start <= self._index < cut.stop
        if crosses:
            self.render_overlay()

    # --- crosshair -------------------------------------------------------------------------------
    def voxel_at(self, scene_pos: QPointF) -> Point | None:
        """The volume voxel (slice, row, col) under a scene point of this plane; None off the image."""
        col = int(np.floor(scene_pos.x() / self._scale[0]))
        row = int(np.floor(scene_pos.y() / self._scale[1]))
        height, width = image_shape(self.volume.shape, self.plane)
        if 0 <= row < height and 0 <= col < width:
            return to_volume(self.plane, self._index, row, col)
        return None

    def move_crosshair_to(self, scene_pos: QPointF) -> None:
        voxel = self.voxel_at(scene_pos)
        if voxel is not None:
            self.crosshair.move_to(*voxel)

    def use_tool(self, tool: Tool | None) -> None:
        """An editing tool in this view (the click tool), or None: clicks move the crosshair again."""
        self.set_tool(tool or CrosshairTool(self))

    def scene_point(self, point: Point) -> QPointF:
        """The scene position of the centre of a volume voxel on this plane."""
        row, col = to_image(self.plane, point)
        return QPointF((col + 0.5) * self._scale[0], (row + 0.5) * self._scale[1])

    def _step(self, step: int) -> None:
        point = list(self.crosshair.point)
        point[self.plane.axis] += step
        self.crosshair.move_to(*point)

    def _on_crosshair(self, point: Point) -> None:
        index = point[self.plane.axis]
        if index != self._index:
            self._index = index
            self.render_image()
            self.render_overlay()
        self._draw_lines(point)

    def _draw_lines(self, point: Point) -> None:
        rect = self.image_rect()
        centre = self.scene_point(point)
        self.lines[0].setLine(rect.left(), centre.y(), rect.right(), centre.y())
        self.lines[1].setLine(centre.x(), rect.top(), centre.x(), rect.bottom())

    def close_view(self) -> None:
        """Stop following the crosshair (before the view is thrown away)."""
        self.crosshair.remove_listener(self._on_crosshair)
