"""The live 3-D view's data side: build the mandible surface off the GUI thread, debounced, and pick it.

Display coordinates are millimetres with x = column (toward the patient's left), y = row (toward
posterior) and z = -slice (toward the head), so the jaw stands upright in the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from skimage.measure import marching_cubes

from core.annotation.label_volume import labelled_box
from core.volume import Volume
from gui.workers import BackgroundTask

DEBOUNCE_MS = 150


@dataclass(frozen=True)
class SurfaceMesh:
    vertices: np.ndarray  # float32 [n, 3] display millimetres (x col, y row, z -slice)
    faces: np.ndarray  # int32 [m, 3]


def to_display(index_points: np.ndarray, spacing) -> np.ndarray:
    """(slice, row, col) voxel indices -> display millimetres (x, y, z)."""
    s, r, c = (np.asarray(index_points, float)[:, a] * float(spacing[a]) for a in range(3))
    return np.stack([c, r, -s], axis=1)


def to_index(display_point: np.ndarray, spacing) -> tuple[int, int, int]:
    """A display point -> the nearest (slice, row, col) voxel."""
    x, y, z = (float(v) for v in display_point)
    return (int(round(-z / spacing[0])), int(round(y / spacing[1])), int(round(x / spacing[2])))


def surface_of(labels: np.ndarray, volume: Volume, corner=(0, 0, 0)) -> SurfaceMesh:
    """The mandible surface of `labels` in display coordinates (runs in a worker thread); `labels` may be a crop of
    the label volume whose first voxel is `corner` (gui.views.planes.label_crop).

    One marching-cubes pass at level 0.5 on the mask's bounding box padded by one voxel, as
    core.io.mesh starts; the export's iso-level calibration, part selection, smoothing and checks
    are left out, since together they take several times as long (decision 161).
    """
    box = labelled_box(labels)  # the mandible's box, found without a whole-volume temporary
    crop = np.pad((labels[box] > 0).astype(np.float32), 1)
    verts, faces, _normals, _values = marching_cubes(crop, 0.5, allow_degenerate=False)
    low = np.array([b.start for b in box]) + np.asarray(corner)
    return SurfaceMesh(to_display(verts + (low - 1), volume.spacing).astype(np.float32), faces.astype(np.int32))


def pick(origin: np.ndarray, direction: np.ndarray, mesh: SurfaceMesh) -> np.ndarray | None:
    """The nearest point where the ray origin + t * direction (t >= 0) meets the mesh (Möller-Trumbore)."""
    tri = mesh.vertices[mesh.faces].astype(np.float64)
    a, edge1, edge2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    direction = np.asarray(direction, float)
    p = np.cross(direction, edge2)
    det = np.einsum("ij,ij->i", edge1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = np.asarray(origin, float) - a
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, edge1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", edge2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0)
    if not hit.any():
        return None
    return np.asarray(origin, float) + t[hit].min() * direction


class SurfaceBuilder(QObject):
    """Rebuilds the surface after edits: `labels_changed()` may come at every brush dab; the build
    starts DEBOUNCE_MS after the last one, runs in a worker thread, and a change during a build
    schedules exactly one more build after it. `snapshot()` runs in the GUI thread and must return
    (first voxel, labels): a copy of the label volume, or of its bounding box, that the GUI will not
    change afterwards (gui.views.planes.label_crop)."""

    mesh_ready = Signal(object)  # SurfaceMesh, or None when there is no mandible to show
    failed = Signal(str)

    def __init__(self, volume: Volume, snapshot: Callable[[], np.ndarray], debounce_ms: int = DEBOUNCE_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume, self.snapshot = volume, snapshot
        self.builds_started = 0
        self._task: BackgroundTask | None = None
        self._building = False  # from start until the worker thread has ended
        self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._start)

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or self._building

    def labels_changed(self) -> None:
        self._timer.start()

    def build_now(self) -> None:
        self._timer.stop()
        self._start()

    def wait(self, msecs: int = 10_000) -> None:
        """Block until a running build has ended (closing the window)."""
        if self._task is not None:
            self._task.wait(msecs)

    def _start(self) -> None:
        if self._building:
            self._again = True
            return
        corner, labels = self.snapshot()
        if not labels.any():
            self.mesh_ready.emit(None)
            return
        volume = self.volume
        self.builds_started += 1
        self._building = True
        self._task = BackgroundTask(lambda progress, cancel: surface_of(labels, volume, corner), "3-D view", self)
        self._task.result.connect(self.mesh_ready)
        self._task.failed.connect(self.failed)
        self._task.finished.connect(self._after_build)
        self._task.start()

    def _after_build(self) -> None:
        self._building = False
        if self._task is not None:
            self._task.deleteLater()
            self._task = None
        if self._again:
            self._again = False
            self._start()
