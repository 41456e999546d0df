"""Accuracy table: each model with and without native-resolution refinement, on OpenKBP and the head.

    .venv/bin/python benchmarks/bench_accuracy.py [--model NAME=PATH ...] [--refine both|on|off]
        [--openkbp-cases N] [--no-openkbp] [--no-head] [--check] [--json OUT] [--cache DIR]

Rows: every --model (default: the reference model), without refinement and "+ refinement".
Columns:
  * OpenKBP validation (22 cases at ~4 mm): mean per-case 3-D Dice and pooled MIoU;
  * the development head, whole volume (108 slices, so refinement has its 3-D context),
    scored on the 31 trustworthy slices only: Dice and recall;
  * the head's eval/ NIfTI pair (just those 31 slices, the way `main.py evaluate --data eval`
    reads them): Dice and recall. Refinement sees slice 80 next to slice 85 there.
Each case's probability is computed once per model and both rows are derived from it: the
network on the CT's own grid, then the prediction policy's steps over the whole volume
(core/inference/postprocess.py: refinement or the 0.5 threshold, holes, 3-D islands), which is
what Segmenter.predict ends with, and the metrics (SegmentationMetrics) that `evaluate` uses.
--check also runs core.evaluation.evaluate_cases with each row's policy and prints both, to show
the harness scores what `evaluate` scores. --cache keeps each case's network probability (float16,
per model file) so that a rerun with other refinement settings skips the network.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.evaluation import evaluate_cases  # noqa: E402
from core.inference.postprocess import PredictionPolicy, volume_masks  # noqa: E402
from core.model.preprocess import hu_slices  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.training.data import CaseRef, discover_cases, load_labelled_case  # noqa: E402
from core.training.metrics import SegmentationMetrics  # noqa: E402

SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "models" / "okbp128_gpu36.msmodel"
OPENKBP = SHARED / "data" / "openkbp" / "validation"
HEAD = SHARED / "data" / "cranium"


class ProbabilityCache:
    """The network's probability per case, on disk (float16) when a folder is given."""

    def __init__(self, folder: Path | None, model: Path):
        self.folder = folder / f"{model.stem}-{model.stat().st_size}" if folder else None

    def get(self, segmenter: Segmenter, volume, name: str) -> np.ndarray:
        path = self.folder / f"{name}.npy" if self.folder else None
        if path is not None and path.is_file():
            return np.load(path).astype(np.float32)
        probability = network_probability(segmenter, volume)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, probability.astype(np.float16))
        return probability


def network_probability(segmenter: Segmenter, volume) -> np.ndarray:
    """The network's mandible probability on the volume's own grid, float32 [slice, row, col].

    The same steps as Segmenter.predict_slices, batch by batch, stopping before the threshold.
    """
    out = np.empty(volume.shape, dtype=np.float32)
    for start in range(0, volume.num_slices, segmenter.batch_size):
        indices = list(range(start, min(volume.num_slices, start + segmenter.batch_size)))
        canvas, geometry = hu_slices(volume, indices, segmenter.config)
        for index, p in zip(indices, segmenter.probabilities(canvas)):
            out[index] = geometry.to_original(p)
    return out


class Row:
    """One row of the table: a model, refinement on or off, and its metrics per column."""

    def __init__(self, name: str, refine: bool, network_mm: float):
        self.name, self.refine, self.network_mm = name, refine, network_mm
        self.metrics: dict[str, SegmentationMetrics] = {}
        self.seconds = 0.0

    def masks(self, volume, probability: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        mask = volume_masks(volume, probability, PredictionPolicy(refine=self.refine), self.network_mm)
        self.seconds += time.perf_counter() - start
        return mask

    def add(self, column: str, prediction, labels, case: str) -> None:
        self.metrics.setdefault(column, SegmentationMetrics()).update(prediction, labels, case=case)

    def result(self, column: str) -> dict | None:
        metrics = self.metrics.get(column)
        return metrics.aggregate() if metrics else None


def score_openkbp(segmenter, cache: ProbabilityCache, rows: list[Row], limit: int | None) -> None:
    refs = discover_cases([OPENKBP])[:limit]
    for number, ref in enumerate(refs):
        case = load_labelled_case(ref)
        probability = cache.get(segmenter, case.volume, ref.name)
        for row in rows:
            row.add("openkbp", row.masks(case.volume, probability), case.labels, ref.name)
        print(f"  openkbp {number + 1}/{len(refs)} {ref.name}: "
              + ", ".join(f"{row.result('openkbp')['dice_3d'][ref.name]:.4f}" for row in rows), flush=True)


def score_head(segmenter, cache: ProbabilityCache, rows: list[Row]) -> None:
    trusted = json.loads((HEAD / "eval_slices.json").read_text())["eval_slices"]
    whole = load_labelled_case(CaseRef("cranium", "volume", HEAD / "dicom", HEAD / "label.nii.gz"))
    probability = cache.get(segmenter, whole.volume, "cranium")
    for row in rows:
        row.add("head", row.masks(whole.volume, probability)[trusted], whole.labels[trusted], "cranium")
    pair = load_labelled_case(discover_cases([HEAD / "eval"])[0])
    probability = cache.get(segmenter, pair.volume, "cranium_eval_pair")
    for row in rows:
        row.add("head_pair", row.masks(pair.volume, probability), pair.labels, "cranium")


def check_against_evaluate(segmenter, row: Row, openkbp_limit: int | None, do_openkbp: bool) -> None:
    """evaluate_cases (the one prediction path) with the row's policy; its figures must equal the row's."""
    policy = PredictionPolicy(refine=row.refine)
    pair = evaluate_cases(segmenter, discover_cases([HEAD / "eval"]), policy)
    print(f"  check {row.name}: head eval/ pair Dice evaluate_cases {pair['dice']:.4f}, "
          f"harness {row.result('head_pair')['dice']:.4f}", flush=True)
    if do_openkbp:
        okbp = evaluate_cases(segmenter, discover_cases([OPENKBP])[:openkbp_limit], policy)
        print(f"  check {row.name}: OpenKBP mean 3-D Dice evaluate_cases {okbp['dice_3d_mean']:.4f}, "
              f"harness {row.result('openkbp')['dice_3d_mean']:.4f}", flush=True)


def table(rows: list[Row]) -> str:
    lines = ["| Row | OpenKBP 3-D Dice (mean) | OpenKBP MIoU | Head Dice (whole volume, 31 slices) | Head recall "
             "| Head Dice (eval/ pair) | Head recall (pair) | Post-network s |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        okbp, head, pair = row.result("openkbp"), row.result("head"), row.result("head_pair")
        cells = [f"{okbp['dice_3d_mean']:.4f}" if okbp else "-", f"{okbp['miou']:.4f}" if okbp else "-",
                 f"{head['dice']:.4f}" if head else "-", f"{head['recall']:.4f}" if head else "-",
                 f"{pair['dice']:.4f}" if pair else "-", f"{pair['recall']:.4f}" if pair else "-",
                 f"{row.seconds:.1f}"]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_models(values: list[str] | None) -> list[tuple[str, Path]]:
    if not values:
        return [("reference model", REFERENCE)]
    models = []
    for value in values:
        name, _, path = value.rpartition("=")
        models.append((name or Path(path).stem, Path(path)))
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="NAME=PATH of a model file (repeatable)")
    parser.add_argument("--refine", choices=("both", "on", "off"), default="both")
    parser.add_argument("--openkbp-cases", type=int, help="only the first N validation cases")
    parser.add_argument("--no-openkbp", action="store_true")
    parser.add_argument("--no-head", action="store_true")
    parser.add_argument("--check", action="store_true", help="also run evaluate_cases with each row's policy")
    parser.add_argument("--json", type=Path, help="write every row's full metrics here")
    parser.add_argument("--cache", type=Path, help="keep the network's probabilities in this folder")
    args = parser.parse_args()
    switches = {"both": (False, True), "on": (True,), "off": (False,)}[args.refine]
    all_rows: list[Row] = []
    for name, path in parse_models(args.model):
        if not path.is_file():
            print(f"error: model file {path} not found; give --model NAME=PATH of an .msmodel", file=sys.stderr)
            return 2
        segmenter = Segmenter.from_file(path)
        rows = [Row(name + (" + refinement" if refine else ""), refine, segmenter.config.mm_per_pixel)
                for refine in switches]
        print(f"{name}: {path}", flush=True)
        cache = ProbabilityCache(args.cache, path)
        if not args.no_head:
            score_head(segmenter, cache, rows)
        if not args.no_openkbp:
            score_openkbp(segmenter, cache, rows, args.openkbp_cases)
        for row in rows if args.check and not args.no_head else ():
            check_against_evaluate(segmenter, row, args.openkbp_cases, not args.no_openkbp)
        all_rows.extend(rows)
    print(table(all_rows))
    if args.json:
        args.json.write_text(json.dumps({row.name: {column: row.result(column) for column in row.metrics}
                                         for row in all_rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
