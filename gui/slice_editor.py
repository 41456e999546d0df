"""What the editing tools may do, and nothing more: the typed `Editor` they see (gui/tools/base.py), over the
current slice of the CaseSession with the window's ToolSettings. Each call is one person's edit, one entry of the
case-wide history (a brush drag from press to release is one)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.annotation.polygons import Polygon
from core.annotation.seeded_fill import add_bone, remove_region
from core.volume import Volume
from gui.case_session import CaseSession
from gui.tool_settings import ToolSettings


class SliceEditor(QObject):
    """The tools' Editor on the open case's current slice."""

    message = Signal(str)  # why a click did nothing (for the status bar)

    def __init__(self, session: CaseSession, settings: ToolSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings = session, settings
        self.brush_radius_changed = settings.brush_radius_changed

    @property
    def volume(self) -> Volume:
        return self.session.volume

    @property
    def brush_radius(self) -> int:
        return self.settings.brush_radius

    def polygons(self) -> list[Polygon]:
        return self.session.annotation().polygons

    # --- polygon editing (gui/tools/polygon.py, vertex_edit.py) ---------------------------------
    def add_polygon(self, points) -> bool:
        return self.session.edit("Add polygon", lambda a: a.add_polygon(np.asarray(points, float)))

    def move_vertex(self, poly: int, ring: int, vertex: int, x: float, y: float) -> bool:
        return self.session.edit("Move vertex", lambda a: a.move_vertex(poly, vertex, x, y, ring=ring))

    def insert_vertex(self, poly: int, ring: int, edge: int, x: float, y: float) -> bool:
        return self.session.edit("Insert vertex", lambda a: a.insert_vertex(poly, edge, x, y, ring=ring))

    def delete_vertex(self, poly: int, ring: int, vertex: int) -> bool:
        return self.session.edit("Delete vertex", lambda a: a.delete_vertex(poly, vertex, ring=ring))

    def move_polygon(self, poly: int, dx: float, dy: float) -> bool:
        return self.session.edit("Move polygon", lambda a: a.translate_polygon(poly, dx, dy))

    def delete_polygon(self, poly: int) -> bool:
        return self.session.edit("Delete polygon", lambda a: a.delete_polygon(poly))

    # --- brush and eraser (gui/tools/brush.py) ---------------------------------------------------
    def begin_stroke(self, erase: bool) -> None:
        settings = self.settings
        threshold = settings.threshold_enabled and not erase
        self.session.begin_stroke("Erase" if erase else "Paint", settings.brush_radius, 0 if erase else 1,
                                  float(settings.threshold_hu) if threshold else None)

    def stroke_to(self, x: float, y: float) -> None:
        self.session.stroke_to(x, y)

    def end_stroke(self) -> None:
        self.session.end_stroke()

    # --- seeded fill (gui/tools/seeded_fill.py) --------------------------------------------------
    def seeded_fill(self, x: int, y: int, remove: bool = False) -> bool:
        """G: add the bone connected to pixel (x, y) above the threshold within the brush radius, or (`remove`)
        take away the labelled region under it; one entry. False (and a `message` saying why) when nothing
        changed."""
        session, radius, hu_min = self.session, self.settings.brush_radius, float(self.settings.threshold_hu)
        if remove:
            done = session.edit("Remove region", lambda a: remove_region(a, y, x, radius))
            if not done:
                self.message.emit("Shift+click removes the labelled region under the click: there is none here.")
            return done
        done = session.edit("Seeded fill", lambda a: add_bone(a, self.volume.hu[session.current], y, x, radius,
                                                                hu_min))
        if not done:
            self.message.emit(self._why_no_fill(x, y, hu_min))
        return done

    def _why_no_fill(self, x: int, y: int, hu_min: float) -> str:
        rows, cols = self.volume.shape[1:]
        if not (0 <= y < rows and 0 <= x < cols):
            return "Seeded fill: click inside the image."
        value = float(self.volume.hu[self.session.current, y, x])
        unit = "HU" if self.volume.units == "HU" else ""
        if value < hu_min:
            return (f"Seeded fill: the pixel clicked is {value:.0f} {unit}, below the threshold of {hu_min:.0f} "
                    f"{unit}. Click inside bone, or lower the threshold in the tool panel.").replace("  ", " ")
        return "Seeded fill: the bone around the click is already in the mask."

    # --- whole-slice operations ------------------------------------------------------------------
    def fill_holes(self) -> bool:
        return self.session.edit("Fill holes", lambda a: a.fill_holes())

    def remove_islands(self) -> bool:
        minimum = self.settings.min_island
        return self.session.edit("Remove small islands", lambda a: a.remove_small_islands(minimum))

    def copy_from(self, offset: int) -> bool:
        """Take the mask of slice current+offset; False when there is no such slice."""
        session = self.session
        source = session.current + offset
        if not 0 <= source < session.num_slices:
            return False
        other = session.annotations.get(source)
        mask = other.mask.copy() if other is not None else np.zeros(self.volume.shape[1:], np.uint8)
        return session.edit(f"Copy from slice {source + 1}", lambda a: a.set_mask(mask))

    def clear(self) -> bool:
        return self.session.edit("Clear slice", lambda a: a.clear())
