"""What every editing tool shares: the view it is attached to, coordinate conversion, default no-ops.

Scene coordinates have the image's pixel (row r, col c) covering [c, c+1) x [r, r+1). Image (Labelme)
coordinates put pixel centres on integers, so image = scene - 0.5. Tools snap the points they create
to pixel centres (docs/decisions/042-snap-to-pixel-centres.md).
"""
from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, Qt, SignalInstance
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent

from core.annotation.polygons import Polygon
from core.volume import Volume


class Editor(Protocol):
    """What a tool may ask of the open case's current slice (gui/slice_editor.py). Each edit is one entry of the
    case-wide history; a tool never touches an annotation itself."""

    brush_radius_changed: SignalInstance  # (int) the window's brush radius changed

    @property
    def volume(self) -> Volume: ...
    @property
    def brush_radius(self) -> int: ...
    def polygons(self) -> list[Polygon]: ...
    def add_polygon(self, points) -> bool: ...
    def move_vertex(self, poly: int, ring: int, vertex: int, x: float, y: float) -> bool: ...
    def insert_vertex(self, poly: int, ring: int, edge: int, x: float, y: float) -> bool: ...
    def delete_vertex(self, poly: int, ring: int, vertex: int) -> bool: ...
    def move_polygon(self, poly: int, dx: float, dy: float) -> bool: ...
    def delete_polygon(self, poly: int) -> bool: ...
    def begin_stroke(self, erase: bool) -> None: ...
    def stroke_to(self, x: float, y: float) -> None: ...
    def end_stroke(self) -> None: ...
    def seeded_fill(self, x: int, y: int, remove: bool = False) -> bool: ...


def scene_to_image(pos: QPointF) -> tuple[float, float]:
    return pos.x() - 0.5, pos.y() - 0.5


def image_to_scene(x: float, y: float) -> QPointF:
    return QPointF(x + 0.5, y + 0.5)


def snapped(pos: QPointF) -> tuple[int, int]:
    """The image pixel (x = column, y = row) whose centre is nearest to a scene point."""
    x, y = scene_to_image(pos)
    return int(round(x)), int(round(y))


class Tool:
    """Base class; the slice view forwards mouse and key events that are not navigation."""

    name = "tool"

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.view = None

    def activate(self, view) -> None:
        self.view = view

    def deactivate(self) -> None:
        self.view = None

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    def view_tolerance(self, pixels: float = 7.0) -> float:
        """A distance of ``pixels`` screen pixels in scene units at the current zoom."""
        zoom = self.view.zoom() if self.view is not None else 1.0
        return pixels / max(zoom, 1e-6)

    def refresh(self) -> None:
        """The slice or its annotation changed: redraw the tool's scene items."""

    # Events; return values of key_press say whether the key was used.
    def press(self, pos: QPointF, event: QMouseEvent) -> None: ...
    def move(self, pos: QPointF, event: QMouseEvent) -> None: ...
    def release(self, pos: QPointF, event: QMouseEvent) -> None: ...
    def double_click(self, pos: QPointF, event: QMouseEvent) -> None: ...
    def leave(self) -> None: ...

    def key_press(self, event: QKeyEvent) -> bool:
        return False

    def wants_right_button(self, pos: QPointF) -> bool:
        return False
