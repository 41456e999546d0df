"""The point every view shows: (slice, row, col) in the CT's canonical voxel grid. No Qt.

Views subscribe with `add_listener`; a click in one view calls `move_to`, and every listener
(the other views, the slice list, the 3-D view) follows. Listeners are called only when the
point really changes, so a view that moves the crosshair and then redraws itself from the
notification cannot loop.
"""
from __future__ import annotations

from typing import Callable

Point = tuple[int, int, int]
Listener = Callable[[Point], None]


class Crosshair:
    """A voxel position inside a CT of `shape` (slices, rows, cols), clamped to it."""

    def __init__(self, shape: tuple[int, int, int], point: Point | None = None) -> None:
        self.shape = tuple(int(n) for n in shape)
        if len(self.shape) != 3 or min(self.shape) < 1:
            raise ValueError(f"a crosshair needs a 3-D shape with every side >= 1, not {shape}")
        self._point = self._clamped(point if point is not None else tuple(n // 2 for n in self.shape))
        self._listeners: list[Listener] = []

    @property
    def point(self) -> Point:
        return self._point

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def move_to(self, slice_: int, row: int, col: int) -> bool:
        """Move (clamped to the CT); True and listeners called when the point changed."""
        point = self._clamped((slice_, row, col))
        if point == self._point:
            return False
        self._point = point
        for listener in list(self._listeners):
            listener(point)
        return True

    def move_axis(self, axis: int, index: int) -> bool:
        """Move along one axis only (0 slice, 1 row, 2 col), e.g. the slice list choosing a slice."""
        point = list(self._point)
        point[axis] = index
        return self.move_to(*point)

    def _clamped(self, point) -> Point:
        return tuple(min(max(int(round(v)), 0), n - 1) for v, n in zip(point, self.shape))  # type: ignore[return-value]
