"""The 3-D click tool (C) in one view: a click corrects at the voxel under the mouse, Shift+click excludes.

The same tool class serves the axial view (the voxel is the pixel of the current slice) and the coronal and
sagittal views (the voxel of their reslice, Ctrl+click moving the crosshair there as a plain click does without
the tool): `voxel_at(scene_pos)` is the view's own mapping. The work is the
window's ClickCorrection (gui/click_correction.py).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor, QMouseEvent

from gui.tools.base import Tool

Voxel = tuple[int, int, int]


class ClickTool(Tool):
    name = "click"

    def __init__(self, correction, voxel_at: Callable[[QPointF], Voxel | None],
                 ctrl_click: Callable[[QPointF], None] | None = None) -> None:
        super().__init__(correction)
        self.voxel_at, self.ctrl_click = voxel_at, ctrl_click

    def for_view(self, voxel_at: Callable[[QPointF], Voxel | None],
                 ctrl_click: Callable[[QPointF], None] | None = None) -> "ClickTool":
        """The same tool in another view, with that view's voxel mapping (and what Ctrl+click does there)."""
        return ClickTool(self.editor, voxel_at, ctrl_click)

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.PointingHandCursor)

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if self.ctrl_click is not None:
                self.ctrl_click(pos)  # the coronal and sagittal views: move the crosshair
            return
        voxel = self.voxel_at(pos)
        if voxel is not None:
            self.editor.click(voxel, include=not event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
