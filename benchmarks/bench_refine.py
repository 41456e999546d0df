"""CPU time of the network plus native-resolution refinement, against the network alone, same run.

    .venv/bin/python benchmarks/bench_refine.py [--model M.msmodel] [--repeats 3] [--case okbp_pt_224]
        [--baseline-tree /tmp/baseline-memory] [--profile]

The case: a real OpenKBP validation CT resampled into a dental-CT-sized volume, 128 slices of
512 x 512: its mandible's slices (with a margin) spread over 128 slices, and a 160 mm field of
view around the mandible on 512 pixels (0.31 mm). The mandible then fills the volume the way it
fills a dental CT, which is the most work refinement ever gets for 128 slices.

Rows (median of --repeats, the order alternating between repeats):
  * network alone (baseline): Segmenter.predict_volume with refinement off (`--no-refine`):
    canvas, network, back to the CT grid, threshold, holes, 3-D islands;
  * network + refinement, the default command-line path: Segmenter.predict_volume with the default policy
    (each run of slices refined once, at the end; the engine the Segmenter picks on this CPU);
  * the app's live path: Segmenter.predict, each slice refined as it arrives, then each run again;
  * refinement alone (refine_masks on the whole volume), and one 512 x 512 slice through each path;
  * with --baseline-tree: today's code's default path (predict_volume) on the same case, in a child process
    with that checkout first on the path, once in each repeat (the same load as this code's paths);
  * with --profile: cProfile of one default command-line run, the top functions by own time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import network_probability  # noqa: E402
from core.inference.postprocess import PredictionPolicy  # noqa: E402
from core.inference.refine import refine_masks  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.nifti import load_nifti_labels, load_nifti_volume  # noqa: E402
from core.volume import Volume  # noqa: E402

SHARED = ROOT.parent / "shared"
VALIDATION = SHARED / "data" / "openkbp" / "validation"
SIZE, SLICES, FIELD_MM = 512, 128, 160.0


def dental_sized_case(name: str) -> Volume:
    """The case's mandible region resampled to SLICES x SIZE x SIZE (trilinear)."""
    volume = load_nifti_volume(VALIDATION / "imagesTr" / f"{name}_0000.nii.gz")
    labels = load_nifti_labels(VALIDATION / "labelsTr" / f"{name}.nii.gz", volume) > 0
    slices = np.flatnonzero(labels.any(axis=(1, 2)))
    first, last = max(0, slices[0] - 4), min(volume.num_slices, slices[-1] + 5)
    rows, cols = np.nonzero(labels.any(axis=0))
    half_r = int(round(FIELD_MM / 2 / volume.spacing[1]))
    half_c = int(round(FIELD_MM / 2 / volume.spacing[2]))
    centre_r, centre_c = int(rows.mean()), int(cols.mean())
    padded = np.pad(volume.hu.astype(np.float32), ((0, 0), (half_r, half_r), (half_c, half_c)),
                    constant_values=-1024.0)
    crop = padded[first:last, centre_r:centre_r + 2 * half_r, centre_c:centre_c + 2 * half_c]
    zoom = (SLICES / crop.shape[0], SIZE / crop.shape[1], SIZE / crop.shape[2])
    hu = ndimage.zoom(crop, zoom, order=1).astype(np.int16)[:SLICES, :SIZE, :SIZE]
    spacing = (volume.spacing[0] / zoom[0], volume.spacing[1] / zoom[1], volume.spacing[2] / zoom[2])
    return Volume(hu=hu, spacing=spacing, name=f"{name} as a dental CT")


def network_alone(segmenter: Segmenter, volume: Volume) -> np.ndarray:
    return segmenter.predict_volume(volume, PredictionPolicy(refine=False))


def network_and_refinement(segmenter: Segmenter, volume: Volume) -> np.ndarray:
    return segmenter.predict_volume(volume, PredictionPolicy(refine=True))


def live_path(segmenter: Segmenter, volume: Volume) -> np.ndarray:
    masks = np.zeros(volume.shape, np.uint8)
    for prediction in segmenter.predict(volume, policy=PredictionPolicy(refine=True), live=True):
        masks[prediction.index] = prediction.mask
    return masks


BASELINE = """
import statistics, sys, time
from benchmarks.bench_refine import dental_sized_case
from core.inference.segmenter import Segmenter
segmenter = Segmenter.from_file(sys.argv[1])
volume = dental_sized_case(sys.argv[2])
segmenter.predict_volume(volume.__class__(hu=volume.hu[:1], spacing=volume.spacing, name="warm-up"))
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    masks = segmenter.predict_volume(volume)
    times.append(time.perf_counter() - start)
print("BASELINE", statistics.median(times), int(masks.sum()), segmenter.runtime.describe())
"""


def baseline_seconds(tree: Path, model: Path, case: str, repeats: int) -> tuple[float, int, str]:
    """Today's code's default path on the same case: (median seconds, mask voxels, its runtime), in a child."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", BASELINE, str(model), case, str(repeats)], cwd=tree, env=env,
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("BASELINE"))
    _, seconds, voxels, runtime = line.split(" ", 3)
    return float(seconds), int(voxels), runtime


def profile(segmenter: Segmenter, volume: Volume) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(network_and_refinement, segmenter, volume)
    print("\nProfile of one default command-line run (top 15 by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return (f"{model}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
            f"load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=SHARED / "models" / "okbp128_gpu36.msmodel")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", default="okbp_pt_224")
    parser.add_argument("--baseline-tree", type=Path, help="a checkout of today's code, run in a child process")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not args.model.is_file():
        print(f"error: model file {args.model} not found; give --model PATH of an .msmodel", file=sys.stderr)
        return 2
    segmenter = Segmenter.from_file(args.model)
    volume = dental_sized_case(args.case)
    print(f"{machine()}\n{volume.name}: {volume.shape}, spacing {tuple(round(s, 3) for s in volume.spacing)} mm, "
          f"network {segmenter.runtime.describe()} with {segmenter.engine}, batch {segmenter.batch_size}", flush=True)
    one = Volume(hu=volume.hu[SLICES // 2:SLICES // 2 + 1], spacing=volume.spacing, name="one slice")
    network_alone(segmenter, one)  # warm-up
    times: dict[str, list[float]] = {}
    masks: dict[str, np.ndarray] = {}
    for repeat in range(args.repeats):
        paths = [("network alone", network_alone), ("network + refinement", network_and_refinement),
                 ("app's live path", live_path)]
        for name, function in paths[::-1] if repeat % 2 else paths:
            seconds, masks[name] = timed(function, segmenter, volume)
            times.setdefault(name, []).append(seconds)
            times.setdefault(f"{name}, one slice", []).append(timed(function, segmenter, one)[0])
        probability = network_probability(segmenter, volume)
        seconds, refined = timed(refine_masks, volume.hu, probability, volume.spacing, "HU",
                                 segmenter.config.mm_per_pixel)
        times.setdefault("refinement alone", []).append(seconds)
        if args.baseline_tree:  # in each repeat, between this code's paths: the same load for both
            seconds, voxels, runtime = baseline_seconds(args.baseline_tree, args.model, args.case, 1)
            times.setdefault("today's code, default path", []).append(seconds)
            print(f"  today's code ({args.baseline_tree}, {runtime}): {voxels} mask voxels "
                  f"(this code: {int(masks['network + refinement'].sum())})", flush=True)
        print(f"  repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    base = statistics.median(times["network alone"])
    base_one = statistics.median(times["network alone, one slice"])
    print(f"| Path | Whole {SLICES}-slice case, s | per slice, ms | vs network alone |\n|---|---|---|---|")
    for name in ("network alone", "network + refinement", "app's live path", "refinement alone",
                 "today's code, default path"):
        if name in times:
            median = statistics.median(times[name])
            print(f"| {name} | {median:.2f} | {1000 * median / SLICES:.0f} | x{median / base:.2f} |")
    for name in ("network alone, one slice", "network + refinement, one slice"):
        median = statistics.median(times[name])
        print(f"| {name} | - | {1000 * median:.0f} | x{median / base_one:.2f} |")
    if args.profile:
        profile(segmenter, volume)
    print(f"refined mask: {int(refined.sum())} voxels on {int(refined.any(axis=(1, 2)).sum())} slices; {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
