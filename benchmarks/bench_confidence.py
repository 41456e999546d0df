"""Does "% sure" point at the slices to check? The confidence on the mask shown (core/inference/confidence.py,
decision 183) beside the one it replaced (the network's unsure band on its 4 mm canvas), on the development head's
trusted slices and on okbp_pt_201, against the Dice of each slice's mask with the label.

    .venv/bin/python benchmarks/bench_confidence.py [--model ../shared/models/okbp128_gpu36.msmodel]

Prints one JSON line per case: Spearman's rank correlation of confidence with Dice, the mean Dice of the least
and the most confident third, and the confidence of the slices issue 18 D named. Accuracy figures: they do not
depend on the machine's load.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from core.inference.confidence import BAND, SURE, mask_confidence
from core.inference.postprocess import PredictionPolicy, volume_masks
from core.inference.refine import band_bone_level, refinable
from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from core.model.preprocess import hu_slices

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def canvas_band_confidence(probability: np.ndarray) -> float:
    """The measure before decision 183: 1 - the unsure share of the network's band on its own canvas."""
    band = probability >= BAND
    count = int(np.count_nonzero(band))
    return 1.0 if count == 0 else 1.0 - int(np.count_nonzero(band & (probability < SURE))) / count


def dice(mask: np.ndarray, truth: np.ndarray) -> float:
    mask, truth = mask > 0, truth > 0
    total = mask.sum() + truth.sum()
    return 1.0 if total == 0 else float(2 * (mask & truth).sum() / total)


def _confidence(probability, mask, hu, refined: bool) -> float:
    """mask_confidence as the segmenter measures it: with the CT at its band's bone level where refinement drew it."""
    if not refined:
        return mask_confidence(probability, mask)
    return mask_confidence(probability, mask, hu, band_bone_level(hu, probability))


def measure(segmenter: Segmenter, name: str, ct: Path, label: Path, slices: list[int] | None) -> dict:
    volume = load_volume(ct)
    labels = load_nifti_labels(label, volume)
    canvas, grid = [], []
    for index in range(volume.num_slices):
        hu, geometry = hu_slices(volume, [index], segmenter.config)
        probability = segmenter.probabilities(hu)[0]
        canvas.append(probability)
        grid.append(geometry.to_original(probability))
    grid = np.stack(grid).astype(np.float32)
    masks = volume_masks(volume, grid, PredictionPolicy(), segmenter.config.mm_per_pixel)
    refined = refinable(volume.units, tuple(volume.spacing) if volume.spacing_known else None,
                        segmenter.config.mm_per_pixel)
    if slices is None:
        labelled = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
        slices = list(range(labelled[0], labelled[-1] + 1))
    old = [canvas_band_confidence(canvas[i]) for i in slices]
    new = [_confidence(grid[i], masks[i], volume.hu[i], refined) for i in slices]
    scores = np.array([dice(masks[i], labels[i]) for i in slices])
    result = {"case": name, "slices": len(slices)}
    for key, values in (("canvas_band", old), ("mask_shown", new)):
        values = np.asarray(values)
        order, third = np.argsort(values, kind="stable"), len(values) // 3
        result[key] = {"spearman": round(float(stats.spearmanr(values, scores).correlation), 3),
                       "dice_least_sure_third": round(float(scores[order[:third]].mean()), 4),
                       "dice_surest_third": round(float(scores[order[-third:]].mean()), 4)}
    named = [i for i in (81, 82, 91, 92, 93) if name == "development head" and i < volume.num_slices]
    result["named_slices"] = {str(i + 1): {"canvas_band": round(canvas_band_confidence(canvas[i]), 2),
                                           "mask_shown": round(_confidence(grid[i], masks[i], volume.hu[i], refined), 2),
                                           "mask_pixels": int(masks[i].sum()), "label_pixels": int(labels[i].sum())}
                              for i in named}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHARED / "models" / "okbp128_gpu36.msmodel")
    args = parser.parse_args()
    segmenter = Segmenter.from_file(args.model)
    cranium = SHARED / "data" / "cranium"
    trusted = json.loads((cranium / "eval_slices.json").read_text())["eval_slices"]
    cases = [("development head", cranium / "dicom", cranium / "label.nii.gz", trusted),
             ("okbp_pt_201", SHARED / "data" / "dicom" / "okbp_pt_201",
              SHARED / "data" / "openkbp" / "validation" / "labelsTr" / "okbp_pt_201.nii.gz", None)]
    for name, ct, label, slices in cases:
        print(json.dumps(measure(segmenter, name, ct, label, slices)), flush=True)


if __name__ == "__main__":
    main()
