"""Train on ../shared/data/openkbp/train, then evaluate on the 22 validation cases and the development head's
31 trustworthy slices (../shared/data/cranium/eval); prints one JSON line.

    .venv/bin/python benchmarks/train_openkbp.py --out runs/okbp128.msmodel            # reduced CPU config
    .venv/bin/python benchmarks/train_openkbp.py --full --out runs/okbp512.msmodel     # the paper's schedule (GPU)
    .venv/bin/python benchmarks/train_openkbp.py --finetune ../shared/models/okbp128_gpu36.msmodel \\
        --lr-schedule cosine --out runs/ft-cosine.msmodel                                # a network change, measured
    .venv/bin/python benchmarks/train_openkbp.py --evaluate-only ../shared/models/okbp128_gpu36.msmodel --flip-tta
    .venv/bin/python benchmarks/train_openkbp.py --paired-tta ../shared/models/okbp128_gpu36.msmodel

Reduced CPU configuration (what a 2-core machine affords in about half an hour): 128 px at
4 mm per pixel (OpenKBP's own resolution), at most 24 slices per case, batch 8, bf16 autocast,
no ImageNet weights (none can be had offline: trained from scratch), so a short frozen stage and
higher learning rates than the paper's fine-tuning ones. --full: 512 px at 1 mm, 100 epochs with
25 frozen, batch 4, Adam 1e-4 / 1e-5, ImageNet initialisation (--init to override).
--finetune MODEL: the reference's own settings (128 px, 4 mm, focal + 0.5 x Dice, all 112 training
cases, no frozen stage), starting from MODEL at a tenth of its learning rate, for --epochs epochs on at
most --max-slices slices per case; the switches below change one thing each (issue 11, decision 122).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.evaluation import evaluate_cases  # noqa: E402
from core.inference.postprocess import PredictionPolicy, volume_masks  # noqa: E402
from core.model.preprocess import hu_slices, windowed_channels  # noqa: E402
from core.model.tta import mandible_probability  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.model.model_file import load_model  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.data import discover_cases, load_labelled_case  # noqa: E402
from core.training.metrics import SegmentationMetrics  # noqa: E402
from core.training.slices import SliceSampling  # noqa: E402
from core.training.trainer import run_training  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OPENKBP = SHARED / "openkbp"
HEAD = SHARED / "cranium" / "eval"

REDUCED = dict(input_size=128, mm_per_pixel=4.0, epochs=12, freeze_epochs=2, batch_size=8, lr=1e-3,
               lr_unfrozen=3e-4, precision="bf16", init="none", dice_weight=0.5, val_fraction=0.1,
               sampling=SliceSampling(near=6, far=3, max_per_case=24))
FULL = dict(input_size=512, mm_per_pixel=1.0, epochs=100, freeze_epochs=25, batch_size=4, lr=1e-4,
            lr_unfrozen=1e-5, precision="auto", init="imagenet", dice_weight=0.0, val_fraction=0.2)
FINETUNE = dict(input_size=128, mm_per_pixel=4.0, epochs=2, freeze_epochs=0, batch_size=16, lr=5e-5,
                lr_unfrozen=5e-5, precision="bf16", dice_weight=0.5, val_fraction=0.0)


def measure(model: str | Path, device: str, flip_tta: bool = False) -> dict:
    """OpenKBP validation (mean 3-D Dice, MIoU) and the development head's eval slices (Dice, recall)."""
    loaded = load_model(model)
    if flip_tta:
        loaded.config = dataclasses.replace(loaded.config, flip_tta=True)
    segmenter = Segmenter(loaded, device)
    result = {"model": str(model), "flip_tta": segmenter.config.flip_tta}
    for name, refs in (("head", discover_cases([HEAD])), ("openkbp", discover_cases([OPENKBP / "validation"]))):
        start = time.monotonic()
        metrics = evaluate_cases(segmenter, refs)
        result[name] = {key: round(metrics[key], 4) for key in ("dice_3d_mean", "dice", "miou", "recall", "precision")}
        result[name]["minutes"] = round((time.monotonic() - start) / 60, 1)
        logging.info("measured %s: %s", name, json.dumps(result[name]))  # the head first: it takes seconds
    return result


def paired_tta(model: str | Path, device: str) -> dict:
    """Flip TTA against the plain prediction on the same forward passes (the plain one is TTA's first half),
    case by case on the OpenKBP validation set, each mask cleaned in 3-D as `evaluate` does; a JSON line per
    case with the running means, so a run cut short still gives a paired comparison on the cases it did."""
    segmenter = Segmenter(load_model(model), device)
    config = dataclasses.replace(segmenter.config, flip_tta=False)
    plain, flipped = SegmentationMetrics(), SegmentationMetrics()
    for ref in discover_cases([OPENKBP / "validation"]):
        case = load_labelled_case(ref)
        canvas, geometry = hu_slices(case.volume, range(case.volume.num_slices), segmenter.config)
        x = windowed_channels(torch.from_numpy(canvas), segmenter.config)
        with torch.inference_mode():
            one = torch.cat([mandible_probability(segmenter.network, x[i:i + 8], config, segmenter.runtime)
                             for i in range(0, len(x), 8)])
            both = torch.cat([mandible_probability(segmenter.network, x[i:i + 8].flip(-1), config,
                                                   segmenter.runtime).flip(-1) for i in range(0, len(x), 8)])
        for metrics, probability in ((plain, one), (flipped, (one + both) / 2)):
            on_grid = np.stack([geometry.to_original(p) for p in probability.float().numpy()])
            mask = volume_masks(case.volume, on_grid, PredictionPolicy(refine=False))  # the network's own masks
            metrics.update(mask, case.labels, case=ref.name)
        line = {"case": ref.name, "cases": len(plain.per_case)}
        for name, metrics in (("plain", plain), ("flip_tta", flipped)):
            result = metrics.aggregate()
            line[name] = {"dice_3d_mean": round(result["dice_3d_mean"], 4), "miou": round(result["miou"], 4),
                          "case_dice": round(result["dice_3d"][ref.name], 4)}
        print(json.dumps(line), flush=True)
    return line


def finetune_settings(args: argparse.Namespace) -> dict:
    settings = dict(FINETUNE, init=args.finetune, epochs=args.epochs or FINETUNE["epochs"],
                    sampling=SliceSampling(near=4, far=2, max_per_case=args.max_slices),
                    lr_schedule=args.lr_schedule, context_slices=args.context_slices,
                    deep_supervision=args.deep_supervision, flip_tta=args.flip_tta)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="model file to write")
    parser.add_argument("--full", action="store_true", help="the paper's schedule at 512 px")
    parser.add_argument("--finetune", metavar="MODEL", help="fine-tune MODEL with the switches below")
    parser.add_argument("--evaluate-only", metavar="MODEL", help="only measure MODEL")
    parser.add_argument("--paired-tta", metavar="MODEL", help="MODEL with and without flip TTA, case by case")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--max-slices", type=int, default=8, help="slices per training case (--finetune)")
    parser.add_argument("--init", help="imagenet, none, a torchvision state dict, or one of our model files")
    parser.add_argument("--lr", type=float, help="learning rate while the encoder is frozen")
    parser.add_argument("--lr-unfrozen", type=float, help="learning rate after unfreezing")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine", "poly"), default="constant")
    parser.add_argument("--context-slices", type=int, default=0, help="2.5-D: neighbours on each side")
    parser.add_argument("--deep-supervision", action="store_true")
    parser.add_argument("--flip-tta", action="store_true", help="left-right flip test-time augmentation")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.paired_tta:
        paired_tta(args.paired_tta, args.device)
        return
    if args.evaluate_only:
        print(json.dumps({"config": "evaluate", **measure(args.evaluate_only, args.device, args.flip_tta)}))
        return
    if args.finetune:
        settings, name = finetune_settings(args), "finetune"
    else:
        settings, name = dict(FULL if args.full else REDUCED), "full" if args.full else "reduced-cpu"
        overrides = {"epochs": args.epochs, "init": args.init, "lr": args.lr, "lr_unfrozen": args.lr_unfrozen}
        settings.update({k: v for k, v in overrides.items() if v is not None})
    config = TrainingConfig(data=[str(OPENKBP / "train")], out=args.out, device=args.device, report_every=50,
                            **settings)
    start = time.monotonic()
    for _event in run_training(config):  # the trainer logs each epoch and the result
        pass
    trained = time.monotonic() - start
    switches = {k: settings.get(k) for k in ("lr_schedule", "context_slices", "deep_supervision", "flip_tta")}
    print(json.dumps({"config": name, **switches, "epochs": config.epochs,
                      "train_minutes": round(trained / 60, 1), **measure(args.out, args.device)}))


if __name__ == "__main__":
    main()
