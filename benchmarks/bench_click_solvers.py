"""The click solver's candidates against each other (docs/decisions/220): the same simulated user
(benchmarks/click_user.py), the same box, data term and edge feature (core/inference/click_graph_cut.py), and
three established interactive methods to turn them into a mask:

  graph cut     BK max-flow (bkgco): the data term as terminal weights, the edges as pairwise weights, clicks
                as hard seeds (core's GraphCut, the chosen one);
  grow-cut      ITK's FastGrowCut (itk-growcut, the algorithm of 3D Slicer's "Grow from seeds"): seeds where
                the data term is sure (q >= 1 - SURE_BELOW or q <= SURE_BELOW) and the clicks, grown over the
                edge feature with a distance penalty;
  random walker scikit-image's random_walker, multigrid (pyamg), on the same seeds and edge feature.

numpymaxflow (the other graph cut on the registry) is not measured: its only wheel (0.0.7) is built against
numpy 1.x and does not import with the numpy 2 this project needs (opencv-python-headless 5 requires it).

    python benchmarks/bench_click_solvers.py [--cases N] [--clicks N] [--cache DIR] [--model M]

Rows: each solver (with its own main setting); columns: the development head (--no-refine start, Dice on its
31 trusted slices) and the first N OpenKBP validation cases (mean 3-D Dice), after 1, 3, 5, 10 clicks, and
the median seconds per click (this machine, same run).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import ProbabilityCache  # noqa: E402
from benchmarks.click_user import click_user, dice  # noqa: E402
from core.inference.click_graph_cut import BoneModel, GraphCut, data_term, edge_feature, seeds  # noqa: E402
from core.inference.clicks import ClickScene  # noqa: E402
from core.inference.postprocess import PredictionPolicy, volume_masks  # noqa: E402
from core.inference.refine import fill_holes_in_plane  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.labels import load_labels  # noqa: E402
from core.io.loader import load_volume  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
MODEL = ROOT / "resources" / "models" / "okbp128_gpu36-int8.msmodel"
SURE_BELOW = 0.15


class SeededSolver(GraphCut):
    """A candidate that grows labels from seeds: the graph cut's scene, its sure voxels and clicks as seeds."""

    def __init__(self, sure_below: float = SURE_BELOW) -> None:
        super().__init__()
        self.sure_below = sure_below

    def __call__(self, scene: ClickScene) -> np.ndarray:
        settings = self.chosen(scene.spacing, scene.network_mm)
        bone = BoneModel.of(scene, settings)
        likelihood, feature = data_term(scene, bone, settings), edge_feature(scene, bone)
        include, exclude = seeds(scene)
        labels = np.zeros(likelihood.shape, np.uint8)  # 1 mandible, 2 background, 0 to decide
        labels[likelihood >= 1.0 - self.sure_below] = 1
        labels[likelihood <= self.sure_below] = 2
        labels[include], labels[exclude] = 1, 2
        if labels.all() or not (labels == 2).any() or not (labels == 1).any():
            return fill_holes_in_plane(labels == 1)
        return fill_holes_in_plane(self.grow(labels, feature, scene.spacing, settings.edge_hu) == 1)


class GrowCut(SeededSolver):
    def __init__(self, distance_penalty: float, sure_below: float = SURE_BELOW) -> None:
        super().__init__(sure_below)
        self.distance_penalty = distance_penalty

    def grow(self, labels, feature, spacing, edge_hu) -> np.ndarray:
        import itk

        image = itk.image_from_array(np.ascontiguousarray(feature, np.float32))
        seeds_image = itk.image_from_array(np.ascontiguousarray(labels))
        for item in (image, seeds_image):
            item.SetSpacing([float(spacing[2]), float(spacing[1]), float(spacing[0])])
        grown = itk.fast_grow_cut(image, seed_image=seeds_image, distance_penalty=self.distance_penalty)
        return itk.array_from_image(grown)


class RandomWalker(SeededSolver):
    def __init__(self, beta: float, sure_below: float = SURE_BELOW) -> None:
        super().__init__(sure_below)
        self.beta = beta

    def grow(self, labels, feature, spacing, edge_hu) -> np.ndarray:
        from skimage.segmentation import random_walker

        return random_walker(feature / edge_hu, labels, beta=self.beta, mode="cg_mg", tol=1e-3,
                             spacing=tuple(float(s) for s in spacing))


SOLVERS = {
    "graph cut (bkgco)": GraphCut,
    "grow-cut (itk-growcut), distance penalty 0.5": lambda: GrowCut(0.5),
    "grow-cut (itk-growcut), distance penalty 2": lambda: GrowCut(2.0),
    "random walker (scikit-image + pyamg), beta 130": lambda: RandomWalker(130.0),
    "random walker (scikit-image + pyamg), beta 10": lambda: RandomWalker(10.0),
}


def cases(count: int) -> list[tuple[str, Path, Path, list[int] | None]]:
    head = SHARED / "cranium"
    trusted = json.loads((head / "eval_slices.json").read_text())["eval_slices"]
    found = [("head", head / "dicom", head / "label.nii.gz", trusted)]
    images = sorted((SHARED / "openkbp" / "validation" / "imagesTr").glob("*_0000.nii.gz"))[:count]
    return found + [("openkbp", image, image.parents[1] / "labelsTr" / image.name.replace("_0000", ""), None)
                    for image in images]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=22, help="OpenKBP validation cases")
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    segmenter, cache = Segmenter.from_file(args.model), ProbabilityCache(args.cache, args.model)
    network_mm = segmenter.config.mm_per_pixel
    results: dict[str, dict[str, list]] = {name: {"head": [], "openkbp": [], "seconds": []} for name in SOLVERS}
    for column, ct, label_path, slices in cases(args.cases):
        volume = load_volume(ct)
        label = load_labels(label_path, volume) > 0
        probability = cache.get(segmenter, volume, f"{ct.parent.name}-{ct.name}")
        start = volume_masks(volume, probability, PredictionPolicy(refine=False), network_mm) > 0
        for name, make in SOLVERS.items():
            curve, _ = click_user(volume.hu, start, label, probability, volume.spacing, args.clicks,
                                  lambda mask: dice(mask, label, slices), volume.units, network_mm, make())
            results[name][column].append(curve.dices)
            results[name]["seconds"].extend(curve.seconds)
            print(f"  {ct.name} {name}: " + " ".join(f"{d:.3f}" for d in curve.dices), flush=True)
    shown = [k for k in (0, 1, 3, 5, 10) if k <= args.clicks]
    after = ", ".join(["start"] + [str(k) for k in shown[1:]])
    print(f"| Solver | head: {after} clicks | OpenKBP mean: {after} | s/click (median) |")
    print("|---|---|---|---|")
    for name, found in results.items():
        cells = [" / ".join(f"{v:.3f}" for v in np.mean(found[c], axis=0)[shown]) if found[c] else "-"
                 for c in ("head", "openkbp")]
        print(f"| {name} | {cells[0]} | {cells[1]} | {np.median(found['seconds']):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
