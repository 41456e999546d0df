"""CBCT-like variants of a CT with a mandible label, for benchmarks/bench_scanner_shift.py.

A variant is the CT resampled onto a dental CBCT's grid (0.5 mm by default) inside a cylinder around the jaw
(the circular field of view, a constant padding value outside it), with the artefacts and the grey map of
a cone-beam scanner:

  * cupping: attenuation underestimated towards the centre of the field of view, (1 - c (1 - (r/R)^2));
  * noise: Gaussian, sigma in HU;
  * a grey map: stored values as a linear map of attenuation that is not HU (air and bone where a scanner
    puts them), or HU itself; values are stored as whole numbers, as a scanner does.

The geometry (field of view, grid, slices) follows a real dental CBCT: ../shared/data/cbct-label, the
PostDentalSurgery scan's label, 360 x 360 x 330 voxels of 0.5 mm (a 180 mm field of view, 165 mm tall).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

BONE_HU = 1200.0  # the cortical bone level a grey map's "bone" value stands for
FIELD_HEIGHT_MM = 165.0  # the PostDentalSurgery CBCT: 330 slices of 0.5 mm
MARGIN_MM = 25.0  # beyond the scored slices: refinement follows bone at most this far (decision 130)


@dataclass(frozen=True)
class GreyMapSpec:
    """HU -> stored value: air (-1000 HU) at `air`, bone (BONE_HU) at `bone`, linear between and beyond."""

    name: str
    air: float
    bone: float
    padding: float
    dtype: str = "int16"

    def stored(self, hu: np.ndarray) -> np.ndarray:
        scale = (self.bone - self.air) / (BONE_HU + 1000.0)
        values = np.rint(self.air + (hu + 1000.0) * scale)
        info = np.iinfo(self.dtype)
        return np.clip(values, info.min, info.max).astype(self.dtype)


GREY_MAPS = {
    "hu": GreyMapSpec("HU, 0 outside the field of view", -1000.0, BONE_HU, 0.0),
    "air0-bone2000": GreyMapSpec("air 0, bone 2000", 0.0, 2000.0, 0.0, "uint16"),
    "air300-bone1600": GreyMapSpec("air 300, bone 1600", 300.0, 1600.0, 0.0, "uint16"),
    "compressed": GreyMapSpec("compressed: air 0, bone 140 (16 HU a step)", 0.0, 137.5, 0.0, "uint16"),
}


@dataclass(frozen=True)
class Scanner:
    """What a variant does to the CT."""

    grey: str = "hu"
    cupping: float = 0.1
    noise_hu: float = 30.0
    field_mm: float = 146.0
    grid_mm: float = 0.5
    slice_mm: float = 0.5
    seed: int = 0
    padded: bool = True  # a circular field of view with padding outside; False: the square crop only


@dataclass
class Variant:
    """A variant's stored values [slice, row, col] and its spacing. Its grid divides the source CT's voxels:
    `factors` variant voxels a source voxel along each axis, the first block starting at source voxel `start`,
    so that a mask goes back to the CT by averaging whole blocks (exact for a mask that was the CT's)."""

    stored: np.ndarray
    spacing: tuple[float, float, float]
    start: np.ndarray  # source index of the first block, per axis (may lie outside the CT in-plane)
    factors: np.ndarray  # variant voxels per source voxel, per axis


def field_centre(labels: np.ndarray) -> np.ndarray:
    """(slice, row, col) index in the source CT of the mandible's bounding-box centre."""
    where = [np.flatnonzero(labels.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    return np.array([(w[0] + w[-1]) / 2.0 for w in where])


def variant_grid(shape, spacing, labels: np.ndarray, scanner: Scanner,
                 scored: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, factors, blocks): the variant's grid over the source CT of `shape` and `spacing`, centred on the
    mandible of `labels`; `scored` (first, last slice of the CT that will be scored) centres the field's height
    there and keeps it to those slices and MARGIN_MM beyond (at most FIELD_HEIGHT_MM): a shorter field of view,
    as many dental scans have, and less to compute. The voxel size is the source's divided by a whole number,
    the nearest to --grid-mm / --slice-mm."""
    spacing = np.asarray(spacing, float)
    factors = np.maximum(1, np.round(spacing / np.array([scanner.slice_mm, scanner.grid_mm, scanner.grid_mm])))
    centre = field_centre(labels)
    height = min(FIELD_HEIGHT_MM, shape[0] * spacing[0])
    if scored is not None:
        centre[0] = (scored[0] + scored[1]) / 2.0
        height = min(height, (scored[1] - scored[0] + 1) * spacing[0] + 2 * MARGIN_MM)
    blocks = np.maximum(1, np.round(np.array([height, scanner.field_mm, scanner.field_mm]) / spacing)).astype(int)
    start = np.floor(centre - (blocks - 1) / 2.0).astype(int)
    start[0] = int(np.clip(start[0], 0, max(0, shape[0] - blocks[0])))
    return start, factors.astype(int), blocks


def make_variant(hu: np.ndarray, spacing, labels: np.ndarray, scanner: Scanner,
                 scored: tuple[int, int] | None = None) -> Variant:
    """The CBCT-like variant of `hu` (HU, [slice, row, col], `spacing` mm) around the mandible of `labels`
    (`scored`: see variant_grid)."""
    start, factors, blocks = variant_grid(hu.shape, spacing, labels, scanner, scored)
    step_mm = np.asarray(spacing, float) / factors
    positions = [start[a] + (np.arange(blocks[a] * factors[a]) + 0.5) / factors[a] - 0.5 for a in range(3)]
    shape = [len(p) for p in positions]
    stored = np.empty(tuple(shape), GREY_MAPS[scanner.grey].dtype)
    rng = np.random.default_rng(scanner.seed)
    grid_r, grid_c = np.meshgrid(positions[1], positions[2], indexing="ij")
    radius = _radius(shape[1:], step_mm[1:])
    field_radius = scanner.field_mm / 2.0
    inside = radius <= field_radius if scanner.padded else np.ones(radius.shape, bool)
    cupping = 1.0 - scanner.cupping * (1.0 - (np.minimum(radius, field_radius) / field_radius) ** 2)
    spec = GREY_MAPS[scanner.grey]
    for k, z in enumerate(positions[0]):
        plane = (_sample_plane(hu, z, grid_r, grid_c) + 1000.0) * cupping - 1000.0
        if scanner.noise_hu:
            plane += rng.normal(0.0, scanner.noise_hu, plane.shape).astype(np.float32)
        values = spec.stored(plane)
        values[~inside] = spec.padding
        stored[k] = values
    return Variant(stored, tuple(float(s) for s in step_mm), start, factors)


def _radius(shape, step_mm) -> np.ndarray:
    rows = (np.arange(shape[0]) - (shape[0] - 1) / 2.0) * step_mm[0]
    cols = (np.arange(shape[1]) - (shape[1] - 1) / 2.0) * step_mm[1]
    return np.hypot(rows[:, None], cols[None, :]).astype(np.float32)


def _sample_plane(hu: np.ndarray, z: float, grid_r: np.ndarray, grid_c: np.ndarray) -> np.ndarray:
    """Trilinear sample of the CT at slice position z on a grid of (row, col) indices; air outside, and the
    end slices beyond the CT's first and last (no slab of air where the field is taller than the CT)."""
    z = float(np.clip(z, 0, hu.shape[0] - 1))
    coords = np.stack([np.full(grid_r.shape, z), grid_r, grid_c])
    return ndimage.map_coordinates(hu, coords, order=1, mode="constant", cval=-1024.0).astype(np.float32)


def mask_on_source(mask: np.ndarray, variant: Variant, source_shape) -> np.ndarray:
    """A variant's mask taken back to the source CT's grid: each source voxel is mandible when at least half of
    the variant voxels inside it are (whole blocks, no interpolation)."""
    f = variant.factors
    blocks = np.array(mask.shape) // f
    share = mask.reshape(blocks[0], f[0], blocks[1], f[1], blocks[2], f[2]).mean(axis=(1, 3, 5))
    out = np.zeros(source_shape, bool)
    low = np.maximum(variant.start, 0)
    high = np.minimum(variant.start + blocks, source_shape)
    inner = tuple(slice(lo - st, hi - st) for lo, hi, st in zip(low, high, variant.start))
    out[tuple(slice(lo, hi) for lo, hi in zip(low, high))] = share[inner] >= 0.5
    return out
