"""The paper's ablation (Table 3) rerun on real CT: the four rows that need no ImageNet weights, trained with
the same budget, data and seed, each evaluated on the 22 OpenKBP validation cases. One JSON line per row,
then a Markdown table.

    .venv/bin/python benchmarks/ablation.py --out-dir runs/ablation                 # reduced CPU version
    .venv/bin/python benchmarks/ablation.py --out-dir runs/ablation --full          # a GPU: the full budget

Reduced (CPU) version: 128 px at 4 mm per pixel (--size 64 or 96: the same 512 mm field at 8 or 5.3 mm per
pixel, for a CPU that cannot afford 128), at most --max-slices slices per training case
(mandible slices plus 4 near and 2 far empty ones, evenly thinned), --epochs epochs from scratch with no
frozen stage (a random encoder gains nothing from freezing), Adam 1e-3, batch 16, bf16, focal + 0.5 x Dice,
all 112 training cases (no held-out cases: the last epoch is kept), evaluated on the 22 validation cases'
mandible slices and 8 empty slices on each side (not the whole CT: the CPU's budget). --full: every selected
slice of every case, 36 epochs, batch 32 (the reference model's budget, see ../shared/README.md), evaluated on
every slice of the 22 validation cases like `main.py evaluate`.
A finished row is not trained again (its model file is reused), so an interrupted sweep continues.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.evaluation import evaluate_cases  # noqa: E402
from core.inference.postprocess import PredictionPolicy  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.data import discover_cases, load_labelled_case, select_slices  # noqa: E402
from core.training.metrics import SegmentationMetrics  # noqa: E402
from core.training.slices import SliceSampling  # noqa: E402
from core.training.trainer import run_training  # noqa: E402

OPENKBP = ROOT.parent / "shared" / "data" / "openkbp"
PLAIN = PredictionPolicy(refine=False)
FIELD_MM = 512.0  # 128 px at 4 mm: OpenKBP's own grid
NEAR_SLICES = 8  # reduced evaluation: empty slices kept on each side of the mandible
ROWS = (  # (name, encoder, CBAM); the paper's Table 3 rows without ImageNet weights
    ("U-Net", "plain", False),
    ("+ residual encoder", "resnet50", False),
    ("+ CBAM", "plain", True),
    ("+ residual encoder + CBAM", "resnet50", True),
)
# The paper's own MIoU (Fang et al. 2024, private data) as far as this project has it on record
# (BENCHMARKS.md): only the full model's. The other rows' figures are in the paper's Table 3.
PAPER_MIOU = {"+ residual encoder + CBAM": "0.9448"}


def row_config(encoder: str, cbam: bool, out: Path, args: argparse.Namespace) -> TrainingConfig:
    sampling = SliceSampling(near=4, far=2, max_per_case=None if args.full else args.max_slices)
    return TrainingConfig(data=[str(OPENKBP / "train")], out=str(out), epochs=args.epochs, freeze_epochs=0,
                          batch_size=32 if args.full else 16, input_size=args.size, mm_per_pixel=FIELD_MM / args.size, lr=1e-3,
                          lr_unfrozen=1e-3, device=args.device, precision="bf16" if args.device == "cpu" else "auto",
                          init="none", val_fraction=0.0, encoder=encoder, attention=cbam, dice_weight=0.5,
                          sampling=sampling, report_every=50)


def evaluate_near_mandible(segmenter: Segmenter, refs: list) -> dict:
    """The reduced evaluation: on each validation case only the mandible's slices and NEAR_SLICES empty ones on
    each side (the slices the trainer samples), cleaned by the app's policy without refinement (the rows compare
    networks); 3-D Dice per case over those slices."""
    metrics = SegmentationMetrics()
    for ref in refs:
        case = load_labelled_case(ref)
        rows = select_slices(case, near=NEAR_SLICES, far=0)
        by_index = {p.index: p.mask for p in segmenter.predict(case.volume, rows, PLAIN)}  # revisions come last
        masks = np.stack([by_index[row] for row in rows])
        metrics.update(masks, case.labels[rows], case=ref.name)
    return metrics.aggregate()


def run_row(name: str, encoder: str, cbam: bool, args: argparse.Namespace) -> dict:
    out = Path(args.out_dir) / f"{encoder}-{'cbam' if cbam else 'nocbam'}-{args.size}px.msmodel"
    config = row_config(encoder, cbam, out, args)
    start = time.monotonic()
    if not out.exists():
        for _event in run_training(config):
            pass
    trained = time.monotonic() - start
    segmenter = Segmenter.from_file(out, args.device)
    refs = discover_cases([OPENKBP / "validation"])
    result = evaluate_cases(segmenter, refs) if args.full else evaluate_near_mandible(segmenter, refs)
    parameters = sum(p.numel() for p in segmenter.network.parameters())
    return {"row": name, "encoder": encoder, "cbam": cbam, "model": str(out), "parameters_m": round(parameters / 1e6, 1),
            "train_minutes": round(trained / 60, 1), "dice_3d_mean": round(result["dice_3d_mean"], 4),
            "dice": round(result["dice"], 4), "miou": round(result["miou"], 4),
            "iou_mandible": round(result["iou_mandible"], 4), "precision": round(result["precision"], 4),
            "recall": round(result["recall"], 4), "cases": result["cases"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--full", action="store_true", help="the reference model's budget (a GPU)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-slices", type=int, default=8, help="slices per training case (reduced version)")
    parser.add_argument("--size", type=int, default=128, choices=(64, 96, 128),
                        help="input pixels over the same 512 mm field (reduced version; --full: 128)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rows", type=int, nargs="*", help="row numbers to run (1-4; default all)")
    args = parser.parse_args()
    if args.full and args.epochs == parser.get_default("epochs"):
        args.epochs = 36
    if args.full:
        args.size = 128
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = []
    for number, (name, encoder, cbam) in enumerate(ROWS, start=1):
        if args.rows and number not in args.rows:
            continue
        results.append(run_row(name, encoder, cbam, args))
        print(json.dumps(results[-1]), flush=True)
    print("\n| Row | Parameters | Train min | mean 3-D Dice | MIoU | mandible IoU | Paper MIoU |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['row']} | {r['parameters_m']} M | {r['train_minutes']} | {r['dice_3d_mean']:.4f} | "
              f"{r['miou']:.4f} | {r['iou_mandible']:.4f} | {PAPER_MIOU.get(r['row'], 'Table 3')} |")


if __name__ == "__main__":
    main()
