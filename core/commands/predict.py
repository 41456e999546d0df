"""`python main.py predict [--model MODEL] CT... --out DIR`: segment the mandible in one CT or many.

One CT: DIR/<NNNN>.png + DIR/<NNNN>.json (Labelme; no shapes where no mandible was found) for every
slice, and DIR/mandible_mask.nii.gz with the whole mask on the CT's grid.
Several CTs (or --cases FOLDER, --list FILE): the same in DIR/<case name>/ for each, with one model load,
a progress bar, a summary table, cases already done skipped (core/commands/predict_batch.py).
Under torchrun each process segments its share of the list (every world-th case), its own summary at the end.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.commands.batch_report import batch_progress, print_summary
from core.commands.predict_batch import (MASK_NAME, BatchCase, CaseOutcome, batch_cases, batch_inputs,
                                         cases_to_do, is_done, run_case)
from core.errors import InputError
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import Progress, Segmenter
from core.io.files import check_output_place, prepare_output_folder, writing_to
from core.io.loader import load_volume
from core.io.nifti import save_nifti_labels
from core.io.slice_export import export_volume
from core.model.model_file import starter_model
from core.model.openvino_network import ENGINES
from core.model.runtime import COMPILE_MODES, PRECISIONS
from core.ranks import process_device, ranks_from_environment, shard
from core.volume import Volume
from core.windowing import WINDOW_PRESETS, Window

log = logging.getLogger(__name__)

__all__ = ["MASK_NAME", "add_arguments", "run", "segment_to_folder"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, nargs="*",
                        help="the CT: DICOM folder or file, NIfTI file or folder of images; several CTs are "
                        "each written to DIR/<case name>/")
    parser.add_argument("--cases", type=Path, metavar="FOLDER",
                        help="a folder of studies: each subfolder, NIfTI file or multi-frame DICOM file is one CT")
    parser.add_argument("--list", type=Path, dest="list_file", metavar="FILE",
                        help="a text file naming one CT per line (relative to the file's folder)")
    parser.add_argument("--overwrite", action="store_true",
                        help="several CTs: segment again the cases whose mask is already in DIR")
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


def segment_to_folder(segmenter: Segmenter, source: Path, out: Path, policy: PredictionPolicy, window: Window,
                      series_uid: str | None = None, progress: Progress | None = None) -> tuple[Volume, int, int]:
    """Load one CT, segment it and write its Labelme slices and mask (last) to `out`: (volume, pngs, with mandible)."""
    volume = load_volume(source, series_uid=series_uid)
    # Inputs first (a bad one leaves no folder behind), then the output place, before the long work.
    prepare_output_folder(out, "--out")
    mask = segmenter.predict_volume(volume, policy, progress=progress)
    with writing_to(out, "--out"):
        pngs, _ = export_volume(out, volume, mask, window, all_slices=True)
        save_nifti_labels(out / MASK_NAME, mask, volume)
    return volume, pngs, int(mask.reshape(len(mask), -1).any(axis=1).sum())


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out} is a file; give a folder")
    check_output_place(args.out, "--out")
    several = len(args.input) > 1 or args.cases is not None or args.list_file is not None
    if not args.input and not several:
        raise InputError("give the CT to segment, several CTs, --cases FOLDER or --list FILE")
    if several and args.series_uid:
        raise InputError("--series-uid chooses the series of one CT; give each CT its own folder instead")
    # The list of cases is checked before the model loads: a wrong --list or --cases is said at once.
    cases = batch_cases(batch_inputs(args.input, args.cases, args.list_file)) if several else []
    ranks = ranks_from_environment()
    if ranks.distributed:  # under torchrun: this process's share of the whole list (docs/decisions/242)
        if not several and not ranks.is_main:
            return 0  # one CT is the first process's
        cases = shard(cases, ranks)
    segmenter = Segmenter.from_file(args.model or starter_model(), process_device(ranks, args.device),
                                   args.precision, args.batch, compile=args.compile, engine=args.engine)
    policy = PredictionPolicy(refine=not args.no_refine, clean=not args.no_postprocess)
    window = WINDOW_PRESETS[args.window]
    if several:
        return _run_batch(args, cases, segmenter, policy, window)
    volume, pngs, with_mandible = segment_to_folder(segmenter, args.input[0], args.out, policy, window,
                                                    args.series_uid, _log_progress)
    print(f"segmented {pngs} slices of {volume.name}: mandible on {with_mandible} "
          f"({pngs} Labelme JSON + PNG in {args.out}, mask {args.out / MASK_NAME})")
    return 0


def _run_batch(args: argparse.Namespace, cases: list[BatchCase], segmenter: Segmenter, policy: PredictionPolicy,
               window: Window) -> int:
    """Every case still to do, one after the other; 1 when any failed, 0 when all are done."""
    prepare_output_folder(args.out, "--out")
    todo = cases_to_do(cases, args.out, args.overwrite)
    outcomes = {case: CaseOutcome(case, "skipped", message="done before; --overwrite segments it again")
                for case in cases if not args.overwrite and is_done(case, args.out)}
    with batch_progress(len(todo)) as bar:
        def segment(case: BatchCase) -> tuple[int, int]:
            _, slices, with_mandible = segment_to_folder(segmenter, case.input, case.out(args.out), policy, window,
                                                         progress=bar.slices)
            return slices, with_mandible

        for case in todo:
            bar.start_case(case.name)
            outcomes[case] = run_case(case, segment)
            bar.case_done()
    ordered = [outcomes[case] for case in cases if case in outcomes]
    print_summary(ordered)
    return 1 if any(o.status == "failed" for o in ordered) else 0
