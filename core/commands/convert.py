"""`python main.py convert INPUT [--labels LABELS] --out DIR`: a CT (and labels) as a Labelme dataset.

Writes DIR/<NNNN>.png (8-bit, windowed) for every slice and DIR/<NNNN>.json for each
slice with a label (every slice with --all), then prints one summary line.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import InputError
from core.io.files import check_output_place, prepare_output_folder, writing_to
from core.io.labels import load_labels
from core.io.loader import load_volume
from core.io.slice_export import export_volume
from core.windowing import WINDOW_PRESETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="DICOM folder, NIfTI file (.nii/.nii.gz) or folder of images")
    parser.add_argument("--labels", type=Path, help="NIfTI label map or folder of <NNNN>.json Labelme files")
    parser.add_argument("--out", type=Path, required=True, help="output folder for PNG + JSON slices")
    parser.add_argument("--window", choices=sorted(WINDOW_PRESETS), default="bone",
                        help="display window for the PNG images (default: bone)")
    parser.add_argument("--all", action="store_true", help="write a JSON for every slice, labelled or not")
    parser.add_argument("--series-uid", help="which series to use when the DICOM folder holds several")


def run(args: argparse.Namespace) -> int:
    if not args.input.exists():
        raise InputError(f"input {args.input} does not exist; give a DICOM folder, NIfTI file or image folder")
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out} is a file; give a folder")
    check_output_place(args.out, "--out")
    volume = load_volume(args.input, series_uid=args.series_uid)
    labels = load_labels(args.labels, volume) if args.labels is not None else None
    prepare_output_folder(args.out, "--out")  # inputs first: a bad one leaves no folder behind
    window = WINDOW_PRESETS[args.window]
    with writing_to(args.out, "--out"):
        pngs, jsons = export_volume(args.out, volume, labels, window, all_slices=args.all)
    print(f"converted {volume.name}: {pngs} PNG and {jsons} Labelme JSON slices in {args.out} "
          f"(window {args.window}, {volume.shape[1]}x{volume.shape[2]})")
    return 0
