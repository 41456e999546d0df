"""A small shaded picture of a mesh, drawn with numpy only (no OpenGL, works headless).

Orthographic view from the patient's front, turned a little to the patient's left and
from above, so both rami and the chin show. Each face is sampled with points (about
two per pixel it covers), kept where nearest to the viewer (a z-buffer) and shaded by
its normal (Lambert with a little ambient light).
"""
from __future__ import annotations

import numpy as np
import trimesh

BONE_RGB = np.array([235.0, 225.0, 205.0])
BACKGROUND_RGB = (40, 44, 52)


def view_rotation(turn_deg: float = 30.0, tilt_deg: float = 20.0) -> np.ndarray:
    """Rows: screen x (right), screen y (down), depth (away from the viewer), in LPS coordinates.

    At turn 0 and tilt 0 the viewer faces the patient: the patient's left (+x) is on the
    screen's right, superior is up and posterior is away from the viewer.
    """
    front = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    t, s = np.radians(turn_deg), np.radians(tilt_deg)
    turn = np.array([[np.cos(t), 0.0, np.sin(t)], [0.0, 1.0, 0.0], [-np.sin(t), 0.0, np.cos(t)]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(s), -np.sin(s)], [0.0, np.sin(s), np.cos(s)]])
    return tilt @ turn @ front


def render_thumbnail(mesh: trimesh.Trimesh, size: int = 256, turn_deg: float = 30.0,
                     tilt_deg: float = 20.0) -> np.ndarray:
    """uint8 RGB image [size, size, 3] of `mesh`."""
    image = np.empty((size, size, 3), np.uint8)
    image[:] = BACKGROUND_RGB
    if len(mesh.faces) == 0:
        return image
    rotation = view_rotation(turn_deg, tilt_deg)
    view = np.asarray(mesh.vertices) @ rotation.T
    # Fit the camera to the mesh as seen: centre the picture on the projected extent (the 3-D box's centre
    # projects off-centre for a curved bone) and scale its larger side to 90 % of the picture.
    view -= (view.min(axis=0) + view.max(axis=0)) / 2
    scale = 0.9 * size / max(np.ptp(view[:, :2], axis=0).max(), 1e-6)
    screen = view * scale + np.array([size / 2, size / 2, 0.0])
    triangles = screen[np.asarray(mesh.faces)]
    normals = np.asarray(mesh.face_normals) @ rotation.T
    light = np.array([-0.3, -0.4, -1.0]) / np.linalg.norm([-0.3, -0.4, -1.0])
    shade = 0.25 + 0.75 * np.clip(normals @ light, 0.0, 1.0)
    points, face_of_point = _sample_faces(triangles)
    x, y = np.floor(points[:, 0]).astype(int), np.floor(points[:, 1]).astype(int)
    inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
    pixel, depth, face = (y * size + x)[inside], points[inside, 2], face_of_point[inside]
    order = np.lexsort((depth, pixel))
    first = np.unique(pixel[order], return_index=True)[1]
    nearest = order[first]
    flat = image.reshape(-1, 3)
    flat[pixel[nearest]] = (shade[face[nearest], None] * BONE_RGB).astype(np.uint8)
    return image


def _sample_faces(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points covering each triangle densely enough for its size on screen, and their face index."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    edge = np.maximum(np.linalg.norm((b - a)[:, :2], axis=1), np.linalg.norm((c - a)[:, :2], axis=1))
    steps = np.clip(np.ceil(2 * edge).astype(int), 1, 64)
    # A triangular grid of barycentric (u, v) with `steps` divisions per face.
    counts = (steps + 1) * (steps + 2) // 2
    face = np.repeat(np.arange(len(triangles)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    n = steps[face]
    # Invert local = i * (2n + 3 - i) / 2 + j over rows i of the triangular grid.
    i = np.floor(((2 * n + 3) - np.sqrt((2 * n + 3) ** 2 - 8 * local)) / 2).astype(int)
    i -= local < i * (2 * n + 3 - i) // 2  # rounding at a row's first point
    i += local >= (i + 1) * (2 * n + 2 - i) // 2
    j = local - i * (2 * n + 3 - i) // 2
    u, v = i / n, j / n
    points = a[face] + u[:, None] * (b - a)[face] + v[:, None] * (c - a)[face]
    return points, face
