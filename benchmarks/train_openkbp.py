"""Train on ../shared/data/openkbp/train, then evaluate on validation; prints one JSON line.

    .venv/bin/python benchmarks/train_openkbp.py --out runs/okbp128.msmodel            # reduced CPU config
    .venv/bin/python benchmarks/train_openkbp.py --full --out runs/okbp512.msmodel     # the paper's schedule (GPU)

Reduced CPU configuration (what a 2-core machine affords in about half an hour): 128 px at
4 mm per pixel (OpenKBP's own resolution), at most 24 slices per case, batch 8, bf16 autocast,
no ImageNet weights (none can be had offline: trained from scratch), so a short frozen stage and
higher learning rates than the paper's fine-tuning ones. --full: 512 px at 1 mm, 100 epochs with
25 frozen, batch 4, Adam 1e-4 / 1e-5, ImageNet initialisation (--init to override).
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

from core.evaluation import evaluate_cases  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.data import discover_cases  # noqa: E402
from core.training.slices import SliceSampling  # noqa: E402
from core.training.trainer import run_training  # noqa: E402

OPENKBP = ROOT.parent / "shared" / "data" / "openkbp"

REDUCED = dict(input_size=128, mm_per_pixel=4.0, epochs=12, freeze_epochs=2, batch_size=8, lr=1e-3,
               lr_unfrozen=3e-4, precision="bf16", init="none", dice_weight=0.5, val_fraction=0.1,
               sampling=SliceSampling(near=6, far=3, max_per_case=24))
FULL = dict(input_size=512, mm_per_pixel=1.0, epochs=100, freeze_epochs=25, batch_size=4, lr=1e-4,
            lr_unfrozen=1e-5, precision="auto", init="imagenet", dice_weight=0.0, val_fraction=0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--full", action="store_true", help="the paper's schedule at 512 px")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--init", help="imagenet, none, a torchvision state dict, or one of our model files")
    parser.add_argument("--lr", type=float, help="learning rate while the encoder is frozen")
    parser.add_argument("--lr-unfrozen", type=float, help="learning rate after unfreezing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = dict(FULL if args.full else REDUCED)
    overrides = {"epochs": args.epochs, "init": args.init, "lr": args.lr, "lr_unfrozen": args.lr_unfrozen}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    config = TrainingConfig(data=[str(OPENKBP / "train")], out=args.out, device=args.device, **settings)
    start = time.monotonic()
    for _event in run_training(config):  # the trainer logs each epoch and the result
        pass
    trained = time.monotonic() - start
    segmenter = Segmenter.from_file(args.out, args.device)
    result = evaluate_cases(segmenter, discover_cases([OPENKBP / "validation"]))
    result.pop("dice_3d")
    print(json.dumps({"config": "full" if args.full else "reduced-cpu", "train_minutes": round(trained / 60, 1),
                      "evaluate_minutes": round((time.monotonic() - start - trained) / 60, 1), **result}))


if __name__ == "__main__":
    main()
