"""One-click retraining on this machine's CPU (issue 22 item 3): time, and Dice on the held-out slices before and after.

    .venv/bin/python benchmarks/bench_retrain_cpu.py            # 25 corrected slices in each of 2 OpenKBP cases
    .venv/bin/python benchmarks/bench_retrain_cpu.py --quick    # a smoke run: 4 slices a case, 1 round
    .venv/bin/python benchmarks/bench_retrain_cpu.py --epochs 12   # a fixed number of rounds instead of the budget

What a technician does: two CTs the starter model has never seen (OpenKBP validation cases) are added to a fresh
workspace, and on each, `--slices` slices spread evenly over the mandible are corrected (their clinical label is
imported, as EDITED, and saved). Retrain then runs as the app's one-click default on a machine without CUDA: the
training step is measured here (core.training.step_time, as the dialog does), the plan that finishes is made from it
(core.training.plans: continuing the active starter at its own 128 px and 4 mm, encoder frozen, a cap on slices,
the rounds that fit the budget), and the run goes through the app's own training process
(gui.ai.training_process.training_run: gather, train, compare, new version) with the app's thread count.

Dice is pooled over each case's held-out slices, every slice that was not corrected, through the one prediction
path (Segmenter.predict_volume, default policy), for the starter (before) and the new version (after). Prints one
JSON line with the times (measuring the step, the run, the total), the plan, the Dice figures per case and pooled,
and the machine's load (`uptime`), which the times depend on and the Dice does not (except through the rounds the
budget allows: give --epochs to fix them).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.labels import load_labels  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.model.model_file import read_document  # noqa: E402
from core.model.config import ModelConfig  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.plans import SliceCounts, continuing_settings, finishing_settings  # noqa: E402
from core.training.retrain import MAX_SLICES, RetrainPlan  # noqa: E402
from core.training.step_time import measure_step  # noqa: E402
from core.workspace import OpenCase, Workspace  # noqa: E402
from core.workspace.model_versions import ModelVersions  # noqa: E402
from gui.ai.training_process import training_run, training_threads  # noqa: E402

VALIDATION = ROOT.parent / "shared" / "data" / "openkbp" / "validation"
CASES = ("okbp_pt_201", "okbp_pt_202")



def finished(events):
    """The return value of a generator of training events, the events themselves unused."""
    while True:
        try:
            next(events)
        except StopIteration as stop:
            return stop.value

def corrected_slices(labels: np.ndarray, count: int) -> list[int]:
    """`count` slices spread evenly over the mandible."""
    mandible = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
    return sorted({int(mandible[i]) for i in np.linspace(0, len(mandible) - 1, count).round().astype(int)})


def add_corrected_case(workspace: Workspace, name: str, count: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The case in the workspace with `count` slices corrected and saved; (volume HU, labels, corrected)."""
    volume = load_volume(VALIDATION / "imagesTr" / f"{name}_0000.nii.gz")
    labels = (load_labels(VALIDATION / "labelsTr" / f"{name}.nii.gz", volume) > 0).astype(np.uint8)
    corrected = corrected_slices(labels, count)
    case = OpenCase(volume, workspace.add_case(volume, VALIDATION / "imagesTr" / f"{name}_0000.nii.gz"))
    only = np.zeros_like(labels)
    only[corrected] = labels[corrected]
    assert case.import_labels(only) == corrected
    case.save()
    return volume, labels, corrected


def held_out_dice(model: Path, cases: dict) -> dict:
    """Dice pooled over every slice that was not corrected, per case and over both."""
    segmenter = Segmenter.from_file(model, device="cpu")
    result, tp_fp_fn = {}, np.zeros(3)
    for name, (volume, labels, corrected) in cases.items():
        masks = segmenter.predict_volume(volume) > 0
        keep = np.setdiff1d(np.arange(len(labels)), corrected)
        truth, found = labels[keep] > 0, masks[keep]
        counts = np.array([(found & truth).sum(), (found & ~truth).sum(), (~found & truth).sum()], float)
        tp_fp_fn += counts
        result[name] = round(2 * counts[0] / max(1.0, 2 * counts[0] + counts[1] + counts[2]), 4)
    result["pooled"] = round(2 * tp_fp_fn[0] / max(1.0, 2 * tp_fp_fn[0] + tp_fp_fn[1] + tp_fp_fn[2]), 4)
    return result


def one_click_plan(active: Path, counts: SliceCounts, quick: bool, epochs: int | None,
                   lr: float | None) -> tuple[RetrainPlan, dict]:
    """The dialog's default on a machine without CUDA, from a step measured here; (plan, timings)."""
    start = ModelConfig.from_dict(read_document(active)[1]["config"])
    settings = {**continuing_settings(start), "init": str(active), "device": "cpu"}
    config = TrainingConfig(data=[], out="", input_size=start.input_size, encoder=start.encoder,
                            attention=start.attention, device="cpu")
    torch.set_num_threads(training_threads())  # as many threads as the training process will use
    began = time.perf_counter()
    step = measure_step(config)
    timings = {"measure_step_s": round(time.perf_counter() - began, 1), "step": step.__dict__}
    settings.update(finishing_settings(step, counts, TrainingConfig.default("val_fraction")))
    if quick:
        settings.update({"epochs": 1, "freeze_epochs": 1, MAX_SLICES: 4})
    elif epochs:
        settings.update({"epochs": epochs, "freeze_epochs": epochs})
    if lr:
        settings["lr"] = lr
    return RetrainPlan(settings), timings


def uptime() -> list[float]:
    """The load averages over 1, 5 and 15 minutes."""
    return [round(load, 2) for load in os.getloadavg()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs=2, default=CASES, help="two OpenKBP validation cases")
    parser.add_argument("--slices", type=int, default=25, help="corrected slices per case (default 25)")
    parser.add_argument("--epochs", type=int, help="rounds, instead of those the budget allows here")
    parser.add_argument("--lr", type=float, help="learning rate instead of the plan's (an experiment)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 slices per case, 1 round")
    args = parser.parse_args(argv)
    slices = 4 if args.quick else args.slices
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace.create(Path(folder) / "workspace")
        cases = {name: add_corrected_case(workspace, name, slices) for name in args.cases}
        active = ModelVersions(workspace.models_dir).ensure_starter()
        before = held_out_dice(active.model_path, cases)
        load_before = uptime()
        plan, timings = one_click_plan(active.model_path, SliceCounts({n: len(c[2]) for n, c in cases.items()}),
                                       args.quick, args.epochs, args.lr)
        began = time.perf_counter()
        version = finished(training_run(workspace.root, plan, False, threading.Event()))
        run_s = time.perf_counter() - began
        after = held_out_dice(version.model_path, cases)
    print(json.dumps({
        "figure": "retrain_cpu_quick" if args.quick else "retrain_cpu", "corrected_slices": sum(
            len(c[2]) for c in cases.values()), "cases": list(args.cases), "plan": plan.settings,
        "minutes_total": round((timings["measure_step_s"] + run_s) / 60, 2), "run_s": round(run_s, 1), **timings,
        "threads": training_threads(), "dice_held_out_before": before, "dice_held_out_after": after,
        "load_average_before": load_before, "load_average_after": uptime(), "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
