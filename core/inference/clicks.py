"""Correct the mask in 3-D with clicks (issue 21; docs/decisions/220).

A click says "this is mandible" (include) or, with Shift, "this is not" (exclude) at one voxel. Each click
solves the mask again in a box around it, at the CT's own resolution, starting from the current mask (the
model's or a person's):

    clicks = [Click(41, 120, 88), Click(44, 131, 90, include=False)]         # the newest last
    box, new = solve_click(GraphCut(), hu, masks, probability, volume.spacing, clicks)  # new: bool, box's shape
    masks[box] = new

`hu`, `masks` and `probability` are anything that gives its crop for `array[box]` (numpy arrays, or the
open case's masks read slice by slice): only the box is read. Earlier clicks inside the box stay hard seeds.

The solver is a `ClickSolver`: today a graph cut (core/inference/click_graph_cut.py). A network that takes
clicks (issue 21 item 5: DeepEdit, RITM) is another ClickSolver over the same ClickScene: its `region` is its
input patch, and the scene already holds what it needs as input channels besides the CT's: the positive and
negative clicks (`clicks`, to draw as disks or distance maps) and the previous mask (`mask`); the network's
new input channels start at zero weights so a trained model keeps its answer until it is trained with
simulated clicks (benchmarks/click_user.py is that simulated user).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from core.calibration import BONE_HU
from core.inference.refine import band_bone_level, refinable

Box = tuple[slice, slice, slice]


@dataclass(frozen=True)
class Click:
    """One click on voxel (slice, row, col) of the CT: include (a click) or exclude (Shift+click)."""

    slice: int
    row: int
    col: int
    include: bool = True

    @property
    def voxel(self) -> tuple[int, int, int]:
        return self.slice, self.row, self.col

    def moved(self, by: tuple[int, int, int]) -> "Click":
        """The same click in coordinates shifted by -`by` (a box's origin)."""
        return replace(self, slice=self.slice - by[0], row=self.row - by[1], col=self.col - by[2])


@dataclass(frozen=True)
class ClickRegion:
    """How far one click reaches: the box solved around it (mm each way, at most `max_voxels`)."""

    box_mm: float
    max_voxels: int


@dataclass(frozen=True)
class ClickScene:
    """What a click solver sees, cropped to the click's box: local coordinates, the newest click last.

    hu: float32 [slices, rows, cols], Hounsfield units when `units` is "HU" (else the image's intensity);
    mask: bool, the current mask; probability: the network's, when known (else None);
    spacing: mm (slice, row, col); bone_hu: this scan's bone (the refinement's model of it);
    network_mm: the model's millimetres per pixel (grids it resolves are solved as the network sees them).
    """

    hu: np.ndarray
    mask: np.ndarray
    probability: np.ndarray | None
    spacing: tuple[float, float, float]
    clicks: tuple[Click, ...]
    units: str = "HU"
    bone_hu: float = BONE_HU
    network_mm: float = 4.0
    origin: tuple[int, int, int] = field(default=(0, 0, 0))

    @property
    def newest(self) -> Click:
        return self.clicks[-1]


class ClickSolver(Protocol):
    """Solves one click: how far it reaches on a grid, and the box's new mask (bool, the scene's shape)."""

    def region(self, spacing, network_mm: float) -> ClickRegion: ...

    def __call__(self, scene: ClickScene) -> np.ndarray: ...


def click_box(click: Click, shape: tuple[int, int, int], spacing, region: ClickRegion) -> Box:
    """The slices, rows and columns one click solves: `region.box_mm` each way from it, shrunk (keeping its
    proportions in mm) to at most `region.max_voxels`, clipped to the volume."""
    if not all(0 <= c < n for c, n in zip(click.voxel, shape)):
        raise IndexError(f"the click at {click.voxel} is outside the volume {tuple(shape)}")
    spacing = [max(float(s), 1e-3) for s in spacing]
    half_mm = float(region.box_mm)
    while True:
        half = [max(1, int(round(half_mm / s))) for s in spacing]
        sizes = [min(n, 2 * h + 1) for h, n in zip(half, shape)]
        if int(np.prod(sizes)) <= region.max_voxels or half_mm <= min(spacing):
            break
        half_mm *= 0.9
    return tuple(slice(max(0, c - h), min(n, c + h + 1)) for c, h, n in zip(click.voxel, half, shape))


def scene_in_box(box: Box, hu, masks, probability, spacing, clicks, units: str = "HU",
                 bone_hu: float | None = None, network_mm: float = 4.0) -> ClickScene:
    """The scene of `box`: each input's crop (only the box is read) and the clicks inside it, moved; `bone_hu`
    None: where refinement draws the mask, this scan's bone level in the network's band inside the box (300 HU
    on CT in HU), else 300 HU."""
    origin = tuple(s.start for s in box)
    shape = tuple(s.stop - s.start for s in box)
    inside = tuple(c.moved(origin) for c in clicks
                   if all(0 <= v < n for v, n in zip(c.moved(origin).voxel, shape)))
    hu_box = np.asarray(hu[box], dtype=np.float32)
    probability_box = None if probability is None else np.asarray(probability[box], dtype=np.float32)
    if bone_hu is None:  # where refinement draws the mask, the level its rule gives the box's band (decision 202)
        refined = probability_box is not None and refinable(units, spacing, network_mm)
        bone_hu = band_bone_level(hu_box, probability_box) if refined else BONE_HU
    return ClickScene(hu_box, np.asarray(masks[box]) > 0, probability_box, tuple(float(s) for s in spacing),
                      inside, units, float(bone_hu), network_mm, origin)


def solve_click(solver: ClickSolver, hu, masks, probability, spacing, clicks, units: str = "HU",
                bone_hu: float | None = None, network_mm: float = 4.0) -> tuple[Box, np.ndarray]:
    """The newest click of `clicks` solved: its box and the box's new mask (bool).

    Earlier clicks inside the box stay hard seeds, so a click never undoes the one before it."""
    if not clicks:
        raise ValueError("solve_click needs at least one click")
    box = click_box(clicks[-1], tuple(hu.shape), spacing, solver.region(spacing, network_mm))
    scene = scene_in_box(box, hu, masks, probability, spacing, clicks, units, bone_hu, network_mm)
    return box, np.asarray(solver(scene), dtype=bool)
