"""The editing tools' settings, which belong to the window (not to a case): brush radius, the HU threshold of the
threshold brush and seeded fill, and the smallest island "Remove Small Islands" keeps. The tool panel shows and
sets them; the tools read them through the SliceEditor. They stay the same when another case opens."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

MIN_RADIUS, MAX_RADIUS = 1, 100
DEFAULT_RADIUS = 6
DEFAULT_THRESHOLD_HU = 250
DEFAULT_MIN_ISLAND = 20


class ToolSettings(QObject):
    brush_radius_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.brush_radius = DEFAULT_RADIUS
        self.threshold_enabled = False  # the brush paints only above threshold_hu (T)
        self.threshold_hu = DEFAULT_THRESHOLD_HU
        self.min_island = DEFAULT_MIN_ISLAND

    def set_brush_radius(self, radius: int) -> None:
        radius = min(max(int(radius), MIN_RADIUS), MAX_RADIUS)
        if radius != self.brush_radius:
            self.brush_radius = radius
            self.brush_radius_changed.emit(radius)
