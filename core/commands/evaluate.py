"""`python main.py evaluate [--model MODEL] --data DIR...`: the paper's metrics as ONE JSON line.

--data takes nnU-Net folders (imagesTr/labelsTr) and Labelme folders, or one CT with --labels.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.evaluation import evaluate_cases
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import Segmenter
from core.model.model_file import starter_model
from core.model.runtime import COMPILE_MODES, PRECISIONS
from core.training.data import discover_cases

KEYS = ("acc", "precision", "recall", "miou", "iou_mandible", "dice", "dice_3d_mean", "slices", "cases")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="model file (.msmodel); default: the bundled starter model")
    parser.add_argument("--data", nargs="+", required=True,
                        help="nnU-Net or Labelme folders; or one CT (DICOM folder, NIfTI) with --labels")
    parser.add_argument("--labels", type=Path, help="labels of the single CT in --data (NIfTI or Labelme folder)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--batch", type=int, help="slices per batch (default: 1 on CPU, 8 on CUDA)")
    parser.add_argument("--compile", choices=COMPILE_MODES, default="off",
                        help="run the network through torch.compile (CUDA; reduce-overhead replays CUDA graphs); "
                        "falls back to eager with the reason logged")
    parser.add_argument("--no-postprocess", action="store_true", help="score the masks without filling holes and "
                        "dropping small islands")
    parser.add_argument("--no-refine", action="store_true",
                        help="threshold the network's probability instead of refining it at the CT's resolution")


def run(args: argparse.Namespace) -> int:
    refs = discover_cases(args.data, labels=args.labels)
    segmenter = Segmenter.from_file(args.model or starter_model(), args.device, args.precision, args.batch,
                                   compile=args.compile)
    policy = PredictionPolicy(refine=not args.no_refine, clean=not args.no_postprocess)
    result = evaluate_cases(segmenter, refs, policy)
    line = {key: result[key] for key in KEYS}
    line["dice_3d"] = result["dice_3d"]
    print(json.dumps(line))
    return 0
