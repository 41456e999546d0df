"""Correction effort on the development head (../shared/data/cranium): how many slices a scripted user
touches to bring the reference model's prediction to a 3-D Dice >= 0.95 against the label, with the app's
interpolation (N) and propagation (Shift+PgUp/PgDn) vs slice by slice.

It runs the app's own code path, headless: an OpenCase in a temporary workspace fed the prediction
(`OpenCase.apply_prediction`, as Segment does), human edits through `SliceAnnotation.set_mask` (a slice
replaced by its label, one touched slice), and the tools through `core.workspace.multi_slice` with the
same rules as the app (edited and reviewed slices are never written; predicted slices only with
"Replace Predicted Slices"). Each round the user replaces the worst slice not yet touched by its label,
then tries propagation up, propagation down and interpolation around it; a try that does not raise the
Dice is undone (the user looks at it and presses Ctrl+Z). The label stands in for the technician's eye.

    python benchmarks/bench_correction.py [--prediction CACHE.npy] [--model FILE.msmodel]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.loader import load_volume  # noqa: E402
from core.io.nifti import load_nifti_labels  # noqa: E402
from core.workspace import OpenCase, Workspace, multi_slice  # noqa: E402
from core.workspace.edit_rules import Allow, EditKind  # noqa: E402

CRANIUM = ROOT.parent / "shared" / "data" / "cranium"
MODELS = (ROOT.parent / "shared" / "models" / "okbp128_gpu36.msmodel",
          ROOT / "resources" / "models" / "okbp128_gpu36-int8.msmodel")
TARGET_DICE = 0.95
MAX_ROUNDS = 200


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


def prediction(volume, cache: Path | None, model: Path) -> np.ndarray:
    if cache is not None and cache.is_file():
        return np.load(cache)
    from core.inference.segmenter import Segmenter

    start = time.perf_counter()
    predicted = Segmenter.from_file(model).predict_volume(volume)
    print(f"(prediction of {volume.num_slices} slices with {model.name}: {time.perf_counter() - start:.0f} s)")
    if cache is not None:
        np.save(cache, predicted)
    return predicted


def predicted_case(volume, predicted: np.ndarray, source: Path = CRANIUM / "dicom") -> OpenCase:
    workspace = Workspace.create(Path(tempfile.mkdtemp()) / "workspace")
    case = OpenCase(volume, workspace.add_case(volume, source))
    for index in range(volume.num_slices):
        case.apply_prediction(index, predicted[index])
    return case


def masks_of(case: OpenCase) -> np.ndarray:
    return np.stack([case.annotation(i).mask for i in range(case.num_slices)])


def correct_worst(case: OpenCase, label: np.ndarray, touched: set[int]) -> int:
    """The user replaces the worst slice not yet touched by its label; that slice's index."""
    masks = masks_of(case)
    errors = [-1 if k in touched else int((masks[k] != label[k]).sum()) for k in range(case.num_slices)]
    worst = int(np.argmax(errors))
    case.edit(worst, "Draw the slice", lambda annotation: annotation.set_mask(label[worst]))
    touched.add(worst)
    return worst


def slice_by_slice(volume, predicted: np.ndarray, label: np.ndarray) -> int:
    case, touched = predicted_case(volume, predicted), set()
    while dice(masks_of(case), label) < TARGET_DICE and len(touched) < MAX_ROUNDS:
        correct_worst(case, label, touched)
    return len(touched)


def with_tools(volume, predicted: np.ndarray, label: np.ndarray, replace_predicted: bool) -> tuple[int, int, int]:
    """(touched slices, tool runs kept, tool runs undone)."""
    case, touched, runs = predicted_case(volume, predicted), set(), [0, 0]
    while dice(masks_of(case), label) < TARGET_DICE and len(touched) < MAX_ROUNDS:
        tool_round(case, label, touched, replace_predicted, runs)
    return len(touched), runs[0], runs[1]


def tool_round(case: OpenCase, label: np.ndarray, touched: set[int], replace_predicted: bool,
               runs: list[int]) -> None:
    """One round of the user: the worst slice by hand, then propagation up, down and interpolation around it,
    each one history entry, undone (Ctrl+Z) when it does not raise the Dice; `runs` counts [kept, undone]."""
    worst = correct_worst(case, label, touched)
    allow = Allow(predicted=replace_predicted)

    def propagate(step: int) -> list[int]:
        masks = {p.index: p.mask for p in multi_slice.propagation(case, worst, step, allow)}
        return case.apply_many(masks, EditKind.PROPAGATION, "Propagate", allow)

    tries = [lambda: propagate(-1), lambda: propagate(1), lambda: multi_slice.interpolate(case, worst, allow)]
    for run in tries:
        before = dice(masks_of(case), label)
        if not run():
            continue
        if dice(masks_of(case), label) > before:
            runs[0] += 1
        else:
            case.undo()
            runs[1] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prediction", type=Path, default=None, help="cache file for the model's prediction")
    parser.add_argument("--model", type=Path, default=next((m for m in MODELS if m.is_file()), MODELS[0]))
    args = parser.parse_args()
    if not CRANIUM.is_dir():
        print(f"error: needs {CRANIUM} (../shared)", file=sys.stderr)
        return 2
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores")
    volume = load_volume(CRANIUM / "dicom")
    label = load_nifti_labels(CRANIUM / "label.nii.gz", volume)
    predicted = prediction(volume, args.prediction, args.model)
    print(f"Start: 3-D Dice {dice(predicted, label):.3f}; target {TARGET_DICE}")
    print(f"Slice by slice: {slice_by_slice(volume, predicted, label)} slices touched")
    for replace in (True, False):
        touched, kept, undone = with_tools(volume, predicted, label, replace)
        rule = ("may replace predicted slices" if replace
                else "the default: empty slices and predictions without mandible")
        print(f"With N and Shift+PgUp/PgDn ({rule}): {touched} slices touched, {kept} tool runs kept, "
              f"{undone} undone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
