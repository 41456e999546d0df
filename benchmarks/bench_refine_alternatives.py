"""Refinement designs compared on the same network probability (docs/decisions/130).

    .venv/bin/python benchmarks/bench_refine_alternatives.py [--model M.msmodel] [--leak-cases 4] [--cache DIR]

1. The development head (whole volume, scored on its 31 trustworthy slices): Dice, recall,
   precision and seconds for each design.
2. Leaks: the first --leak-cases OpenKBP validation cases resampled to 1 mm in-plane (cubic),
   their slices with mandible plus 12 on each side. The probability is the network's on the
   original 4 mm case, bilinear onto the 1 mm grid (what the network gives on the resampled CT,
   up to resampling). These images are blurred (4 mm detail on a 1 mm grid) and their labels are
   coarse clinical contours, so their Dice says little; what they show is how much each design
   puts more than 5 mm away from the label (mm^3): bone it followed where it should have stopped.
--cache: the probability folder of bench_accuracy.py (the network then runs only once per case).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import random_walker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import HEAD, OPENKBP, REFERENCE, ProbabilityCache  # noqa: E402
from core.inference.refine import RefineSettings, fill_holes_in_plane, refine_masks  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.training.data import CaseRef, discover_cases, load_labelled_case  # noqa: E402
from core.training.metrics import confusion, dice, precision, recall  # noqa: E402

UNGUARDED = RefineSettings(growth_cap=1e9, leak_ratio=1e9, seen_mm2=1e9)


def threshold(hu, probability, spacing):
    return probability > 0.5


def per_slice(hu, probability, spacing):
    """Step 1 alone: each slice refined on its own, so nothing is followed across slices."""
    return np.concatenate([refine_masks(hu[k:k + 1], probability[k:k + 1], spacing) for k in range(len(hu))])


def walker(hu, probability, spacing):
    """Random walker on each slice with the network's core: seeds, the band's outside: background."""
    out = np.zeros(hu.shape, dtype=bool)
    band_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for k in np.flatnonzero((probability > 0.5).any(axis=(1, 2))):
        band = cv2.dilate((probability[k] > 0.1).astype(np.uint8), band_kernel).astype(bool)
        rows, cols = np.nonzero(band)
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        seeds = np.where(band[box], 0, 2).astype(np.int32)
        seeds[(probability[k][box] > 0.9) & (hu[k][box] >= 300)] = 1
        if not (seeds == 1).any():
            continue
        image = np.clip((hu[k][box].astype(np.float32) + 200) / 1700, 0, 1)
        out[k][box] = random_walker(image, seeds, beta=130, mode="cg_j") == 1
    return fill_holes_in_plane(out)


def connected_3d(hu, probability, spacing):
    """Bone connected in 3-D to the network's core, within 25 mm of it: no guard against leaks."""
    bone = hu >= 300
    near = ndimage.distance_transform_edt(probability <= 0.5, sampling=spacing) <= 25
    pieces, count = ndimage.label(bone & near)
    keep = np.zeros(count + 1, dtype=bool)
    keep[pieces[bone & (probability > 0.5)]] = True
    keep[0] = False
    return fill_holes_in_plane(keep[pieces])


DESIGNS = {
    "network mask (threshold 0.5)": threshold,
    "bone in the band, each slice alone (step 1)": per_slice,
    "random walker in the band, each slice": walker,
    "bone connected in 3-D to the core": connected_3d,
    "step 1 + follow, no leak guards": lambda h, p, s: refine_masks(h, p, s, settings=UNGUARDED),
    "step 1 + follow (default)": lambda h, p, s: refine_masks(h, p, s),
}


def head_scores(segmenter, cache: ProbabilityCache) -> None:
    case = load_labelled_case(CaseRef("cranium", "volume", HEAD / "dicom", HEAD / "label.nii.gz"))
    trusted = json.loads((HEAD / "eval_slices.json").read_text())["eval_slices"]
    probability = cache.get(segmenter, case.volume, "cranium")
    print("| Design | Head Dice | recall | precision | s |\n|---|---|---|---|---|")
    for name, design in DESIGNS.items():
        start = time.perf_counter()
        mask = design(case.volume.hu, probability, case.volume.spacing)
        seconds = time.perf_counter() - start
        counts = confusion(mask[trusted], case.labels[trusted])
        print(f"| {name} | {dice(counts):.4f} | {recall(counts):.4f} | {precision(counts):.4f} | {seconds:.2f} |",
              flush=True)


def resampled(case, probability, factor: int = 4):
    """The case's mandible slices (+12) at `factor` x finer pixels: HU cubic, probability bilinear."""
    slices = np.flatnonzero(case.labels.any(axis=(1, 2)))
    block = range(max(0, slices[0] - 12), min(len(case.labels), slices[-1] + 13))
    size = (case.volume.hu.shape[2] * factor, case.volume.hu.shape[1] * factor)

    def up(stack, interpolation):
        return np.stack([cv2.resize(stack[k].astype(np.float32), size, interpolation=interpolation) for k in block])

    spacing = (case.volume.spacing[0], case.volume.spacing[1] / factor, case.volume.spacing[2] / factor)
    return (up(case.volume.hu, cv2.INTER_CUBIC), np.clip(up(probability, cv2.INTER_LINEAR), 0, 1),
            up(case.labels, cv2.INTER_LINEAR) > 0.5, spacing)


def leak_scores(segmenter, cache: ProbabilityCache, count: int) -> None:
    names = [name for name in DESIGNS if name != "random walker in the band, each slice"]  # minutes per case
    far_mm3 = {name: [] for name in names}
    dices = {name: [] for name in names}
    for ref in discover_cases([OPENKBP])[:count]:
        case = load_labelled_case(ref)
        hu, probability, labels, spacing = resampled(case, cache.get(segmenter, case.volume, ref.name))
        far = ndimage.distance_transform_edt(~labels, sampling=spacing) > 5
        for name in names:
            mask = DESIGNS[name](hu, probability, spacing)
            far_mm3[name].append(float((mask & far).sum() * np.prod(spacing)))
            dices[name].append(dice(confusion(mask, labels)))
        print(f"  {ref.name}: " + ", ".join(f"{far_mm3[n][-1]:.0f}" for n in names), flush=True)
    print("| Design | mm^3 > 5 mm from the label, per case | mean | Dice vs coarse label |\n|---|---|---|---|")
    for name in names:
        print(f"| {name} | {' / '.join(f'{v:.0f}' for v in far_mm3[name])} | {np.mean(far_mm3[name]):.0f} "
              f"| {np.mean(dices[name]):.4f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=REFERENCE)
    parser.add_argument("--leak-cases", type=int, default=4)
    parser.add_argument("--cache", type=Path, help="keep the network's probabilities in this folder")
    args = parser.parse_args()
    if not args.model.is_file():
        print(f"error: model file {args.model} not found; give --model PATH of an .msmodel", file=sys.stderr)
        return 2
    segmenter = Segmenter.from_file(args.model)
    cache = ProbabilityCache(args.cache, args.model)
    head_scores(segmenter, cache)
    if args.leak_cases:
        leak_scores(segmenter, cache, args.leak_cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
