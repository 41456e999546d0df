"""`python main.py predict [--model MODEL] INPUT --out DIR`: segment the mandible in a CT.

Writes DIR/<NNNN>.png + DIR/<NNNN>.json (Labelme; no shapes where no mandible was found)
for every slice, and DIR/mandible_mask.nii.gz with the whole mask on the CT's grid.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.errors import InputError
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import Segmenter
from core.io.files import check_output_place, prepare_output_folder, writing_to
from core.io.loader import load_volume
from core.io.nifti import save_nifti_labels
from core.io.slice_export import export_volume
from core.model.model_file import starter_model
from core.model.openvino_network import ENGINES
from core.model.runtime import COMPILE_MODES, PRECISIONS
from core.windowing import WINDOW_PRESETS

log = logging.getLogger(__name__)

MASK_NAME = "mandible_mask.nii.gz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="DICOM folder, NIfTI file or folder of images")
    parser.add_argument("--model", type=Path, help="model file (.msmodel); default: the bundled starter model")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto: bf16 where the CPU/GPU has it, else fp32")
    parser.add_argument("--batch", type=int, help="slices per batch (default: 1 on CPU, 8 on CUDA)")
    parser.add_argument("--compile", choices=COMPILE_MODES, default="off",
                        help="run the network through torch.compile (CUDA; reduce-overhead replays CUDA graphs); "
                        "falls back to eager with the reason logged")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto: OpenVINO on a CPU without native bf16 when it is installed, else torch")
    parser.add_argument("--no-postprocess", action="store_true", help="keep small islands and holes")
    parser.add_argument("--no-refine", action="store_true",
                        help="threshold the network's probability instead of refining it at the CT's resolution")
    parser.add_argument("--window", choices=sorted(WINDOW_PRESETS), default="bone", help="window of the PNGs")
    parser.add_argument("--series-uid", help="which series to use when the DICOM folder holds several")


def _log_progress(step: int, total: int, message: str) -> None:
    if step == total or step % 32 == 0:
        log.info(message)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out} is a file; give a folder")
    check_output_place(args.out, "--out")
    segmenter = Segmenter.from_file(args.model or starter_model(), args.device, args.precision, args.batch,
                                   compile=args.compile, engine=args.engine)
    volume = load_volume(args.input, series_uid=args.series_uid)
    # Inputs first (a bad one leaves no folder behind), then the output place, before the long work.
    prepare_output_folder(args.out, "--out")
    policy = PredictionPolicy(refine=not args.no_refine, clean=not args.no_postprocess)
    mask = segmenter.predict_volume(volume, policy, progress=_log_progress)
    with writing_to(args.out, "--out"):
        pngs, jsons = export_volume(args.out, volume, mask, WINDOW_PRESETS[args.window], all_slices=True)
        save_nifti_labels(args.out / MASK_NAME, mask, volume)
    with_mandible = int(mask.reshape(len(mask), -1).any(axis=1).sum())
    print(f"segmented {pngs} slices of {volume.name}: mandible on {with_mandible} "
          f"({jsons} Labelme JSON + PNG in {args.out}, mask {args.out / MASK_NAME})")
    return 0
