"""Build the mandible's surface mesh from a label volume, in patient millimetres (DICOM LPS).

marching cubes (scikit-image) on the padded mask -> vertices through the Volume's affine ->
keep the large parts or all parts above a size -> Taubin smoothing -> quadric decimation
(trimesh + fast-simplification) -> watertight / manifold checks, volume (mL), area (cm2).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import trimesh
from skimage.measure import marching_cubes

from core.annotation.label_volume import labelled_box, require_geometry
from core.errors import Cancelled, ExportError
from core.volume import Volume

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
STEPS = 5


# "Keep only the large parts" keeps every part at least this share of the largest one (decision 186).
LARGE_PART_SHARE = 0.25


@dataclass(frozen=True)
class MeshOptions:
    """How to turn a mask into a mesh."""

    # Taubin passes, each one shrink step (lambda 0.5) and one inflate step (mu -0.53).
    smooth_iterations: int = 10
    # None keeps every face; otherwise quadric decimation down to about this many faces.
    target_faces: int | None = None
    # True: the largest connected part and every part at least LARGE_PART_SHARE of its volume (the two rami of a scan
    # that starts above the chin are two parts of about one size); False: every part of at least min_part_ml.
    keep_largest: bool = False
    min_part_ml: float = 0.05


@dataclass
class MandibleMesh:
    """A closed surface in patient LPS millimetres and what a technician checks before printing it."""

    mesh: trimesh.Trimesh
    volume_ml: float
    area_cm2: float
    watertight: bool
    manifold: bool
    voxel_volume_ml: float
    parts_kept: int
    parts_dropped: int
    iso_level: float
    build_seconds: float

    @property
    def faces(self) -> int:
        return int(len(self.mesh.faces))

    @property
    def volume_error_pct(self) -> float:
        return 100.0 * (self.volume_ml - self.voxel_volume_ml) / self.voxel_volume_ml

    def summary(self) -> dict:
        return {"volume_ml": round(self.volume_ml, 3), "area_cm2": round(self.area_cm2, 3),
                "watertight": bool(self.watertight), "faces": self.faces}


def build_mesh(labels: np.ndarray, volume: Volume, options: MeshOptions = MeshOptions(),
               progress: Progress | None = None, cancel: threading.Event | None = None) -> MandibleMesh:
    """The mandible surface of `labels` ([slice, row, col], nonzero = mandible) on `volume`'s geometry."""
    start = time.perf_counter()
    require_geometry(volume)
    box = labelled_box(labels, volume)
    mask = np.asarray(labels[box]) > 0  # the mandible's box only: no copy of the whole label volume
    voxel_ml = float(mask.sum() * np.prod(volume.spacing)) / 1000.0
    _step(progress, cancel, 0, "marching cubes")
    mesh, level = _surface(mask, np.array([b.start for b in box]), volume)
    _step(progress, cancel, 1, "connected parts")
    mesh, kept, dropped = _select_parts(mesh, options)
    _step(progress, cancel, 2, "smoothing")
    if options.smooth_iterations > 0:
        # trimesh counts half-steps (shrink, inflate, ...): an odd count would end on a shrink.
        trimesh.smoothing.filter_taubin(mesh, lamb=0.5, nu=0.53, iterations=2 * int(options.smooth_iterations))
    _step(progress, cancel, 3, "decimation")
    if options.target_faces and len(mesh.faces) > options.target_faces:
        mesh = _decimate(mesh, int(options.target_faces))
    _step(progress, cancel, 4, "checks")
    result = MandibleMesh(
        mesh=mesh, volume_ml=abs(float(mesh.volume)) / 1000.0, area_cm2=float(mesh.area) / 100.0,
        watertight=bool(mesh.is_watertight), manifold=bool(mesh.is_watertight and mesh.is_winding_consistent),
        voxel_volume_ml=voxel_ml, parts_kept=kept, parts_dropped=dropped, iso_level=level,
        build_seconds=time.perf_counter() - start)
    if progress:
        progress(STEPS, STEPS, "done")
    log.info("mesh of '%s': %s, %.2f%% from the voxel volume, %.2f s", volume.name, result.summary(),
             result.volume_error_pct, result.build_seconds)
    return result


def _step(progress: Progress | None, cancel: threading.Event | None, step: int, message: str) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("mesh export cancelled")
    if progress:
        progress(step, STEPS, message)


def _surface(mask: np.ndarray, corner: np.ndarray, volume: Volume) -> tuple[trimesh.Trimesh, float]:
    """Marching cubes on the mask (the label volume's bounding box, whose first voxel is `corner`) padded by one
    voxel, so the surface closes.

    On a binary mask the surface at level 0.5 cuts every voxel corner and encloses a few
    per cent less than the voxels; the level is lowered (by bisection) until the mesh
    encloses the voxel volume (decision 051).
    """
    crop = np.pad(mask.astype(np.float32), 1)
    spacing = tuple(float(s) for s in volume.spacing)
    target = float(mask.sum() * np.prod(spacing))
    level, low, high = 0.5, 0.25, 0.5
    verts, faces = _marching_cubes(crop, level, spacing)
    for _ in range(8):
        enclosed = _enclosed_volume(verts, faces)
        if abs(enclosed - target) <= 0.002 * target:
            break
        if enclosed > target:
            low = level
        else:
            high = level
        level = (low + high) / 2
        verts, faces = _marching_cubes(crop, level, spacing)
    index = verts / np.asarray(spacing) + (corner - 1)
    return _to_patient(index, faces, volume), level


def _marching_cubes(crop: np.ndarray, level: float, spacing) -> tuple[np.ndarray, np.ndarray]:
    verts, faces, _normals, _values = marching_cubes(crop, level, spacing=spacing, allow_degenerate=False)
    return verts, faces


def _enclosed_volume(verts: np.ndarray, faces: np.ndarray) -> float:
    """Volume of a closed triangle mesh by the divergence theorem (sign ignored)."""
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return abs(float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)


def _to_patient(index: np.ndarray, faces: np.ndarray, volume: Volume) -> trimesh.Trimesh:
    """Vertices from (slice, row, col) voxel indices to LPS mm; outward normals whatever the handedness."""
    affine = volume.affine_lps()
    points = index @ affine[:3, :3].T + affine[:3, 3]
    mesh = trimesh.Trimesh(points, faces, process=True, validate=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def _select_parts(mesh: trimesh.Trimesh, options: MeshOptions) -> tuple[trimesh.Trimesh, int, int]:
    parts = mesh.split(only_watertight=False)
    if len(parts) <= 1:
        return mesh, 1, 0
    volumes = np.array([abs(p.volume) / 1000.0 for p in parts])
    if options.keep_largest:
        keep = [i for i, v in enumerate(volumes) if v >= LARGE_PART_SHARE * volumes.max()]
    else:
        keep = [i for i, v in enumerate(volumes) if v >= options.min_part_ml] or [int(np.argmax(volumes))]
    kept = trimesh.util.concatenate([parts[i] for i in keep])
    log.info("kept %d of %d connected parts (%.2f of %.2f mL)", len(keep), len(parts),
             volumes[keep].sum(), volumes.sum())
    return kept, len(keep), len(parts) - len(keep)


def _decimate(mesh: trimesh.Trimesh, target_faces: int) -> trimesh.Trimesh:
    if target_faces < 100:
        raise ExportError(f"a target of {target_faces} faces is too few for a mandible; ask for at least 100")
    try:
        simplified = mesh.simplify_quadric_decimation(face_count=target_faces)
    except ImportError as exc:
        raise ExportError("decimation needs the 'fast-simplification' package; install it "
                          "(pip install fast-simplification) or export without a face target") from exc
    if not simplified.is_watertight and mesh.is_watertight:
        log.warning("decimation to %d faces opened the surface; keeping the %d-face mesh",
                    target_faces, len(mesh.faces))
        return mesh
    return simplified
