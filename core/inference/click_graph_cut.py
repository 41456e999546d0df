"""The click solver: a graph cut (Boykov & Jolly 2001) by BK max-flow (the `bkgco` package; docs/decisions/220).

Energy over the voxels of the click's box, in millimetres so one setting serves a 0.3 mm CBCT and a 4 mm CT:

  * data term, per mm^3: -log q for mandible, -log(1 - q) for background, where
        q = bone x (floor + (1 - floor) x prior)
    - bone: this scan's bone, the refinement's model of it (HU >= bone_hu, marrow enclosed in a slice
      counted as bone), with a soft edge; it is 1 for images without Hounsfield units;
    - prior: the current mask and the network's probability, mixed (`mask_weight`);
    - the click: on the piece under it (bone for a click, the mask for a Shift+click), within `reach_mm`
      (Gaussian), the prior gives way to what the click says (`click_belief`); a click claims no bone the
      network finds a hundred times less likely than the clicked voxel. Away from it, the current mask and
      the network decide, so a click changes what it is about and little else;
  * edges, per mm^2 of face between neighbours: exp(-(f_a - f_b)^2 / 2 edge_hu^2) on the intensity clipped
    to the bone level (bone is one grey, so the cut follows the bone's surface, not its inside);
  * every click in the box is a hard seed.

Then the holes enclosed in each slice are filled (an axial section of the mandible has none).

On grids the network already resolves (pixels coarser than half its `network_mm`, as OpenKBP's 4 mm), bone is
partial volume: COARSE takes half the bone level, a softer edge, a wider box, and works one way: no edge in the CT
there says where the contour goes, so a click only adds to the mask and a Shift+click only takes from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import bkgco
import numpy as np
from scipy import ndimage

from core.inference.clicks import ClickRegion, ClickScene
from core.inference.refine import fill_holes_in_plane

LOWEST_HU = -200.0  # the edge feature's floor: air and fat are one grey below it
SURE = 1e6  # a hard seed's capacity (bkgco accepts terms up to 1e7)
LOWEST_LIKELIHOOD = 0.01  # the data term's floor (and 1 - its ceiling)
SETTLED_DEPTH = 2  # voxels this deep inside sure background stay out of the graph


@dataclass(frozen=True)
class GraphCutSettings:
    """Measured on the development head and OpenKBP validation (docs/decisions/220, 222)."""

    box_mm: float = 30.0  # the box solved: this far from the click each way
    max_voxels: int = 1_500_000  # and at most this many voxels
    reach_mm: float = 12.0  # the click outweighs the prior this far along the piece under it (Gaussian)
    click_belief: float = 0.7  # the prior at the click: what the click says, this sure
    click_kin: float = 0.01  # a click claims bone the network finds at least this fraction as likely as its voxel
    mask_weight: float = 0.5  # the current mask against the network's probability
    bone_floor: float = 0.3  # bone neither the mask nor the network claims is still this likely mandible
    bone_level: float = 1.0  # the bone model's level, times the scan's bone_hu
    bone_softness_hu: float = 50.0  # the bone model's soft edge
    edge_hu: float = 25.0  # an intensity step this large keeps 61% of an edge's weight
    data_weight: float = 0.3  # the data term per mm^3 against the edges per mm^2
    one_way: bool = False  # a click only adds to the mask, a Shift+click only takes from it


FINE = GraphCutSettings()
COARSE = GraphCutSettings(box_mm=50.0, reach_mm=15.0, click_belief=0.85, bone_level=0.5,
                          bone_softness_hu=100.0, edge_hu=60.0, one_way=True)


def settings_for(spacing, network_mm: float) -> GraphCutSettings:
    """FINE on grids finer than half the network's pixel (where refinement works), else COARSE."""
    return COARSE if max(float(s) for s in spacing[1:]) > network_mm / 2 else FINE


class GraphCut:
    """The ClickSolver of the app and the benchmarks."""

    def __init__(self, settings: GraphCutSettings | None = None) -> None:
        self.settings = settings

    def chosen(self, spacing, network_mm: float) -> GraphCutSettings:
        return self.settings or settings_for(spacing, network_mm)

    def region(self, spacing, network_mm: float) -> ClickRegion:
        settings = self.chosen(spacing, network_mm)
        return ClickRegion(settings.box_mm, settings.max_voxels)

    def __call__(self, scene: ClickScene) -> np.ndarray:
        settings = self.chosen(scene.spacing, scene.network_mm)
        bone = BoneModel.of(scene, settings)
        likelihood, feature = data_term(scene, bone, settings), edge_feature(scene, bone)
        include, exclude = seeds(scene)
        cut = fill_holes_in_plane(min_cut(likelihood, feature, scene.spacing, include, exclude, settings))
        if settings.one_way:
            return scene.mask | cut if scene.newest.include else scene.mask & cut
        return cut


@dataclass(frozen=True)
class BoneModel:
    """This scan's bone in the box: `solid` (HU at or above `level`, marrow enclosed in a slice included) and
    `likelihood` (1 on solid bone, a soft edge below it). Images without Hounsfield units: all bone."""

    level: float | None
    solid: np.ndarray
    likelihood: np.ndarray

    @classmethod
    def of(cls, scene: ClickScene, settings: GraphCutSettings) -> "BoneModel":
        if scene.units != "HU":
            return cls(None, np.ones(scene.hu.shape, bool), np.ones(scene.hu.shape, np.float32))
        level = scene.bone_hu * settings.bone_level
        solid = fill_holes_in_plane(scene.hu >= level)
        soft = 1.0 / (1.0 + np.exp(-(scene.hu - level) / settings.bone_softness_hu))
        return cls(level, solid, np.where(solid, 1.0, soft).astype(np.float32))


def data_term(scene: ClickScene, bone: BoneModel, settings: GraphCutSettings) -> np.ndarray:
    """q, the likelihood of mandible per voxel (0.01..0.99)."""
    prior = scene.mask.astype(np.float32)
    if scene.probability is not None:
        prior = settings.mask_weight * prior + (1.0 - settings.mask_weight) * scene.probability
    click = scene.newest
    pull = click_pull(scene, claimed_pieces(scene, bone, settings), settings.reach_mm)
    said = settings.click_belief if click.include else 1.0 - settings.click_belief
    prior = (1.0 - pull) * prior + pull * said
    q = bone.likelihood * (settings.bone_floor + (1.0 - settings.bone_floor) * prior)
    return np.clip(q, LOWEST_LIKELIHOOD, 1.0 - LOWEST_LIKELIHOOD).astype(np.float32)


def claimed_pieces(scene: ClickScene, bone: BoneModel, settings: GraphCutSettings) -> np.ndarray:
    """Where the newest click may outweigh the prior: the mask for a Shift+click; for a click, solid bone, and where
    the network's probability is known only bone it finds at least `click_kin` times as likely as the clicked
    voxel (the skull base next to a missed condyle is far less likely than the condyle: the click stops there)."""
    click = scene.newest
    if not click.include:
        return scene.mask
    if scene.probability is None:
        return bone.solid
    return bone.solid & (scene.probability >= settings.click_kin * scene.probability[click.voxel])


def click_pull(scene: ClickScene, pieces: np.ndarray, reach_mm: float) -> np.ndarray:
    """0..1: how much the newest click outweighs the prior, a Gaussian of the distance in mm on the piece of
    `pieces` under it (nothing elsewhere, nothing when it is not on a piece)."""
    voxel = scene.newest.voxel
    labels, _ = ndimage.label(pieces)
    if not labels[voxel]:
        return np.zeros(pieces.shape, np.float32)
    grid = np.ogrid[tuple(slice(0, n) for n in pieces.shape)]
    squared = sum(((axis - c) * s) ** 2 for axis, c, s in zip(grid, voxel, scene.spacing))
    return np.where(labels == labels[voxel], np.exp(-squared / reach_mm ** 2), 0.0).astype(np.float32)


def edge_feature(scene: ClickScene, bone: BoneModel) -> np.ndarray:
    """The grey the edges compare: intensity clipped to [LOWEST_HU, bone level], solid bone at the level."""
    if bone.level is None:
        return scene.hu.astype(np.float32)
    feature = np.clip(scene.hu, LOWEST_HU, bone.level).astype(np.float32)
    feature[bone.solid] = bone.level
    return feature


def seeds(scene: ClickScene) -> tuple[np.ndarray, np.ndarray]:
    """(include, exclude) bool: every click in the box; a voxel clicked both ways keeps the newer."""
    include = np.zeros(scene.mask.shape, bool)
    exclude = np.zeros(scene.mask.shape, bool)
    for click in scene.clicks:
        include[click.voxel], exclude[click.voxel] = click.include, not click.include
    return include, exclude


def min_cut(likelihood: np.ndarray, feature: np.ndarray, spacing, include: np.ndarray, exclude: np.ndarray,
            settings: GraphCutSettings) -> np.ndarray:
    """bool mask: the minimum of the energy (module docstring) by BK max-flow; source side = mandible.

    Voxels the data term is sure are background (q at its floor, soft tissue and air) and that lie deeper than
    `SETTLED_DEPTH` voxels inside such a region stay out of the graph as background: their edges to the graph
    weigh on its voxels' cost of being mandible. That keeps a CBCT box mostly bone-sized (bench_clicks --speed).
    """
    voxel_mm3 = float(np.prod(spacing))
    settled = ndimage.binary_erosion(likelihood <= LOWEST_LIKELIHOOD, iterations=SETTLED_DEPTH, border_value=1)
    settled &= ~(include | exclude)
    free = ~settled
    index = np.full(likelihood.shape, -1, dtype=np.int32)
    index[free] = np.arange(int(free.sum()), dtype=np.int32)
    cost_background = -np.log1p(-likelihood[free]) * settings.data_weight * voxel_mm3
    cost_mandible = -np.log(likelihood[free]) * settings.data_weight * voxel_mm3
    cost_background[include[free]], cost_mandible[include[free]] = SURE, 0.0
    cost_background[exclude[free]], cost_mandible[exclude[free]] = 0.0, SURE
    pairs, weights = [], []
    scale = -0.5 / settings.edge_hu ** 2
    for axis in range(3):
        ahead = tuple(slice(1, None) if a == axis else slice(None) for a in range(3))
        behind = tuple(slice(0, -1) if a == axis else slice(None) for a in range(3))
        weight = voxel_mm3 / float(spacing[axis]) * np.exp(scale * (feature[ahead] - feature[behind]) ** 2)
        first, second = index[behind], index[ahead]
        both = (first >= 0) & (second >= 0)
        pairs.append(np.stack([first[both], second[both]], axis=1))
        weights.append(weight[both])
        for node, other in ((first, second), (second, first)):  # an edge to a settled voxel: a cost of mandible
            edge = (node >= 0) & (other < 0)
            np.add.at(cost_mandible, node[edge], weight[edge])
    graph = bkgco.BKGraph(edge_capacity=sum(len(w) for w in weights), dtype=np.float64)
    graph.add_tweights(np.stack([cost_background, np.minimum(cost_mandible, SURE)], axis=1).astype(np.float64))
    edges = np.concatenate(weights).astype(np.float64)
    graph.add_edges(np.concatenate(pairs), np.stack([edges, edges], axis=1))
    graph.maxflow()
    cut = np.zeros(likelihood.shape, bool)
    cut[free] = graph.get_segments() == 0
    return cut
