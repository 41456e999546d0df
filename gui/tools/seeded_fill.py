"""Seeded fill (G): a click adds the bone connected to the clicked pixel (above the HU threshold of the
tool panel, within the brush circle); Shift+click removes the labelled region under the click within the
circle. Each click is one undo step (core/annotation/seeded_fill.py). `[` and `]` change the circle."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from gui.tools.base import snapped
from gui.tools.brush import BrushTool


class SeededFillTool(BrushTool):
    """The brush's circle shows the reach; a click fills instead of painting."""

    name = "fill"

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x, y = snapped(pos)
        remove = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.editor.seeded_fill(x, y, remove)
        self._show_circle(pos)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        self._show_circle(pos)

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        pass
