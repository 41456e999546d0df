"""`python main.py train --data DIR... --out MODEL`: train the residual-CBAM U-Net (two-stage schedule).

Resumes automatically from MODEL.checkpoint when a run with the same settings was interrupted.
Under torchrun (several GPUs or machines) every process trains on its share of each epoch with
DistributedDataParallel, and the first process writes the checkpoints and the model.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.errors import InputError
from core.io.files import prepare_output_file
from core.model.config import ENCODERS
from core.model.runtime import PRECISIONS
from core.ranks import process_device, ranks_from_environment
from core.training.config import TrainingConfig
from core.training.distributed import process_group
from core.training.schedule import LR_SHAPES
from core.training.slices import SliceSampling
from core.training.events import StepDone, TrainingDone
from core.training.trainer import run_training

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add, default = parser.add_argument, TrainingConfig.default
    sampling = default("sampling")
    add("--data", nargs="+", required=True, help="nnU-Net folders (imagesTr/labelsTr) and/or Labelme folders")
    add("--out", type=Path, required=True, help="model file to write (.msmodel)")
    add("--epochs", type=int, default=default("epochs"), help="total epochs (default %(default)s)")
    add("--freeze-epochs", type=int, default=default("freeze_epochs"),
        help="epochs with the encoder frozen (default %(default)s)")
    add("--batch", type=int, default=default("batch_size"),
        help="batch size of each process (default %(default)s; under torchrun each process takes its own batch)")
    add("--size", type=int, default=default("input_size"),
        help="network input size in pixels, a multiple of 32 (default %(default)s)")
    add("--mm-per-pixel", type=float, help="resampling resolution (default: 512 mm / size)")
    add("--lr", type=float, default=default("lr"),
        help="Adam learning rate while the encoder is frozen (default %(default)s)")
    add("--lr-unfrozen", type=float, default=default("lr_unfrozen"),
        help="learning rate after unfreezing (default %(default)s)")
    add("--lr-schedule", choices=LR_SHAPES, default=default("lr_schedule"),
        help="constant rates (the paper's), or a cosine or poly decay over the run (default %(default)s)")
    add("--device", default=default("device"), help="auto, cpu or cuda (default %(default)s)")
    add("--precision", choices=PRECISIONS, default=default("precision"),
        help="auto: bf16/fp16 AMP on CUDA, fp32 on CPU")
    add("--init", default=default("init"), help="imagenet (default), none, or FILE: a torchvision resnet50 "
                                                "state dict or a Mandible Studio model to fine-tune")
    add("--val-fraction", type=float, default=default("val_fraction"),
        help="share of cases held out for validation (default %(default)s)")
    add("--encoder", choices=ENCODERS, default=default("encoder"), help="plain = original U-Net (ablation)")
    add("--no-cbam", action="store_true", help="decoder without CBAM attention (ablation)")
    add("--context-slices", type=int, default=default("context_slices"),
        help="2.5-D: neighbouring slices on each side as extra input channels (default %(default)s)")
    add("--context-mm", type=float, default=default("context_mm"),
        help="distance of those neighbours in mm, whatever the slice spacing (default %(default)s)")
    add("--deep-supervision", action="store_true", help="auxiliary losses on the decoder's coarser outputs")
    add("--flip-tta", action="store_true", help="the model averages its prediction with the mirrored slice's")
    add("--dice-weight", type=float, default=default("dice_weight"),
        help="weight of a soft Dice term added to the focal loss")
    add("--no-augment", action="store_true", help="no augmentation")
    add("--scanner-augment", action="store_true",
        help="also augment for scanner variety: grey maps, cupping, noise, circular fields of view (CBCT)")
    add("--near-slices", type=int, default=sampling.near,
        help="empty slices used on each side of the mandible (default %(default)s)")
    add("--far-slices", type=int, default=sampling.far,
        help="empty slices per case drawn from further away (default %(default)s)")
    add("--max-slices-per-case", type=int, help="cap on slices per case (reduced runs)")
    add("--seed", type=int, default=default("seed"))
    add("--restart", action="store_true", help="discard an interrupted run's checkpoint instead of resuming it")


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    if args.batch < 1 or args.epochs < 1 or not 0 <= args.freeze_epochs <= args.epochs:
        raise InputError("need --batch >= 1, --epochs >= 1 and 0 <= --freeze-epochs <= --epochs")
    if args.context_slices < 0 or args.context_mm <= 0:
        raise InputError("need --context-slices >= 0 and --context-mm > 0")
    return TrainingConfig(
        data=[str(p) for p in args.data], out=str(args.out), epochs=args.epochs, freeze_epochs=args.freeze_epochs,
        batch_size=args.batch, input_size=args.size, mm_per_pixel=args.mm_per_pixel, lr=args.lr,
        lr_unfrozen=args.lr_unfrozen, lr_schedule=args.lr_schedule, device=args.device, precision=args.precision,
        init=args.init, val_fraction=args.val_fraction, encoder=args.encoder, attention=not args.no_cbam,
        context_slices=args.context_slices, context_mm=args.context_mm, deep_supervision=args.deep_supervision,
        flip_tta=args.flip_tta, dice_weight=args.dice_weight, augment=not args.no_augment,
        scanner_augment=args.scanner_augment, seed=args.seed,
        restart=args.restart,
        sampling=SliceSampling(args.near_slices, args.far_slices, args.max_slices_per_case, args.seed))


def run(args: argparse.Namespace) -> int:
    """One process, or one of several that torchrun started (docs/decisions/242): then the first one speaks and
    writes the files, and each trains on its share of every epoch."""
    config = config_from_args(args)
    ranks = ranks_from_environment()
    if ranks.is_main:
        prepare_output_file(args.out, "--out")  # before hours of training
    else:
        logging.getLogger().setLevel(logging.WARNING)  # one voice: the first process's
    config.device = process_device(ranks, config.device)
    last_epoch = None
    with process_group(ranks, config.device):
        for event in run_training(config, ranks=ranks):
            if isinstance(event, StepDone) and event.step == 1 and event.epoch != last_epoch:
                last_epoch = event.epoch
                log.info(event.message)
            elif isinstance(event, TrainingDone) and ranks.is_main:
                print(event.message)
    return 0
