"""`python main.py train --data DIR... --out MODEL`: train the residual-CBAM U-Net (two-stage schedule).

Resumes automatically from MODEL.checkpoint when a run with the same settings was interrupted.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.errors import InputError
from core.io.files import prepare_output_file
from core.model.runtime import PRECISIONS
from core.training.config import TrainingConfig
from core.training.slices import SliceSampling
from core.training.trainer import run_training

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--data", nargs="+", required=True, help="nnU-Net folders (imagesTr/labelsTr) and/or Labelme folders")
    add("--out", type=Path, required=True, help="model file to write (.msmodel)")
    add("--epochs", type=int, default=100, help="total epochs (default 100)")
    add("--freeze-epochs", type=int, default=25, help="epochs with the encoder frozen (default 25)")
    add("--batch", type=int, default=4, help="batch size (default 4)")
    add("--size", type=int, default=512, help="network input size in pixels, a multiple of 32 (default 512)")
    add("--mm-per-pixel", type=float, help="resampling resolution (default: 512 mm / size)")
    add("--lr", type=float, default=1e-4, help="Adam learning rate while the encoder is frozen (default 1e-4)")
    add("--lr-unfrozen", type=float, default=1e-5, help="learning rate after unfreezing (default 1e-5)")
    add("--device", default="auto", help="auto, cpu or cuda (default auto)")
    add("--precision", choices=PRECISIONS, default="auto", help="auto: bf16/fp16 AMP on CUDA, fp32 on CPU")
    add("--init", default="imagenet", help="imagenet (default), none, or FILE: a torchvision resnet50 "
                                           "state dict or a Mandible Studio model to fine-tune")
    add("--val-fraction", type=float, default=0.2, help="share of cases held out for validation (default 0.2)")
    add("--encoder", choices=("resnet50", "plain"), default="resnet50", help="plain = original U-Net (ablation)")
    add("--no-cbam", action="store_true", help="decoder without CBAM attention (ablation)")
    add("--dice-weight", type=float, default=0.0, help="weight of a soft Dice term added to the focal loss")
    add("--no-augment", action="store_true", help="no augmentation")
    add("--near-slices", type=int, default=8, help="empty slices used on each side of the mandible (default 8)")
    add("--far-slices", type=int, default=4, help="empty slices per case drawn from further away (default 4)")
    add("--max-slices-per-case", type=int, help="cap on slices per case (reduced runs)")
    add("--seed", type=int, default=0)
    add("--restart", action="store_true", help="discard an interrupted run's checkpoint instead of resuming it")


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    if args.batch < 1 or args.epochs < 1 or not 0 <= args.freeze_epochs <= args.epochs:
        raise InputError("need --batch >= 1, --epochs >= 1 and 0 <= --freeze-epochs <= --epochs")
    return TrainingConfig(
        data=[str(p) for p in args.data], out=str(args.out), epochs=args.epochs, freeze_epochs=args.freeze_epochs,
        batch_size=args.batch, input_size=args.size, mm_per_pixel=args.mm_per_pixel, lr=args.lr,
        lr_unfrozen=args.lr_unfrozen, device=args.device, precision=args.precision, init=args.init,
        val_fraction=args.val_fraction, encoder=args.encoder, attention=not args.no_cbam,
        dice_weight=args.dice_weight, augment=not args.no_augment, seed=args.seed, restart=args.restart,
        sampling=SliceSampling(args.near_slices, args.far_slices, args.max_slices_per_case, args.seed))


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    prepare_output_file(args.out, "--out")  # before hours of training
    last_epoch = None
    for event in run_training(config):
        if event.event == "step" and event.step == 1 and event.epoch != last_epoch:
            last_epoch = event.epoch
            log.info(event.message)
        elif event.event == "done":
            print(event.message)
    return 0
