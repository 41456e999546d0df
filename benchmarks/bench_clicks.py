"""3-D click correction (issue 21): a simulated user with clicks beside the same user with today's tools, and the
time of a click beside the time of one slice's prediction.

    python benchmarks/bench_clicks.py --ct CT --label LABEL [--eval-slices JSON] [--model M] [--no-refine]
        [--clicks N] [--cache DIR]
    python benchmarks/bench_clicks.py --cases NNUNET_DIR [same options]     # one line per case, then the means
    python benchmarks/bench_clicks.py --speed [--size 512,512,300] [--clicks N] [--cache DIR]

--ct/--label prints one JSON line. CT is anything `main.py predict` opens, LABEL a mask on its grid as
`main.py convert --labels` takes it (a NIfTI label map, nonzero = mandible, or a folder of Labelme JSON).
--eval-slices {"eval_slices": [k, ...]} (0-based, in the loaded order): Dice on those slices only.
The user starts from the model's prediction (the one policy: `Segmenter.predict` gives the same masks) and:
  * "clicks": clicks on the largest 3-D error component (benchmarks/click_user.py), solved in core
    (core/inference/clicks.py): Dice after 1, 3, 5, 10 clicks, NoC@90 and NoC@95 (null: not within --clicks);
  * "today": today's tools (benchmarks/bench_correction.py): each interaction is one slice replaced by its label
    (drawn perfectly by hand), then propagation up and down and interpolation around it, each kept only when it
    raises the Dice (they may replace predicted slices); the same Dice and NoC, counted in slices drawn.
--cache keeps the network's probability (bench_accuracy.py's cache) so reruns skip the network.

--speed: the development head resampled to a CBCT-sized grid (default 512 x 512 x 300, ~0.5 mm), the user's
clicks from the network's mask there, timed one by one (the box read, solved and written back), beside
`Segmenter.predict` of one slice of the same volume (the app's Segment This Slice) in the same run.
Figures are wall-clock on this machine: compare the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_accuracy import ProbabilityCache  # noqa: E402
from benchmarks.bench_correction import masks_of, predicted_case, tool_round  # noqa: E402
from benchmarks.click_user import CHECKPOINTS, Curve, click_user, dice  # noqa: E402
from core.errors import InputError  # noqa: E402
from core.inference.postprocess import PredictionPolicy, volume_masks  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.labels import load_labels  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.volume import Volume  # noqa: E402

MODEL = ROOT / "resources" / "models" / "okbp128_gpu36-int8.msmodel"
HEAD = ROOT.parent / "shared" / "data" / "cranium"


def eval_slices(path: Path | None, num_slices: int) -> list[int] | None:
    if path is None:
        return None
    try:
        slices = json.loads(path.read_text())["eval_slices"]
        slices = [int(k) for k in slices]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not {{\"eval_slices\": [k, ...]}}: {exc}") from exc
    if not slices or not all(0 <= k < num_slices for k in slices):
        raise InputError(f"{path}: eval slices must be 0..{num_slices - 1} (0-based, in the loaded order)")
    return slices


def today_user(volume: Volume, source: Path, start: np.ndarray, label: np.ndarray, count: int, score) -> Curve:
    """Today's tools, `count` slices drawn (benchmarks/bench_correction.py's user, scored by `score`)."""
    case, touched, runs = predicted_case(volume, start, source), set(), [0, 0]
    curve = Curve([score(masks_of(case))])
    for _ in range(count):
        began = time.perf_counter()
        tool_round(case, label, touched, True, runs)
        curve.seconds.append(time.perf_counter() - began)
        curve.dices.append(score(masks_of(case)))
    return curve


def run_pair(ct: Path, label_path: Path, slices_json: Path | None, segmenter: Segmenter, model: Path,
             refine: bool, count: int, cache: ProbabilityCache) -> dict:
    volume = load_volume(ct)
    label = load_labels(label_path, volume) > 0
    slices = eval_slices(slices_json, volume.num_slices)
    probability = cache.get(segmenter, volume, f"{ct.parent.name}-{ct.name}")
    network_mm = segmenter.config.mm_per_pixel
    start = volume_masks(volume, probability, PredictionPolicy(refine=refine), network_mm) > 0

    def score(mask):
        return dice(mask, label, slices)

    clicks, _ = click_user(volume.hu, start, label, probability, volume.spacing, count, score, volume.units,
                           network_mm)
    today = today_user(volume, ct, start.astype(np.uint8), label.astype(np.uint8), count, score)
    return {"ct": str(ct), "label": str(label_path), "model": model.name, "refine": refine,
            "scored_slices": len(slices) if slices is not None else volume.num_slices,
            "start_dice": round(clicks.dices[0], 4),
            "clicks": {**clicks.summary(), "seconds_p95": round(float(np.percentile(clicks.seconds, 95)), 3)
                       if clicks.seconds else None},
            "today": {**today.summary(), "unit": "slices drawn by hand, then N and Shift+PgUp/PgDn tried"}}


def run_cases(folder: Path, **options) -> list[dict]:
    """Every case of an nnU-Net folder (imagesTr/<case>_0000.nii.gz, labelsTr/<case>.nii.gz)."""
    rows = []
    for image in sorted((folder / "imagesTr").glob("*_0000.nii.gz")):
        label = folder / "labelsTr" / image.name.replace("_0000.nii.gz", ".nii.gz")
        row = run_pair(image, label, None, **options)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def means(rows: list[dict]) -> dict:
    def mean_of(user: str, key: str) -> float:
        return round(float(np.mean([row[user]["dice_after"][key] for row in rows])), 4)

    def reached(user: str, key: str) -> str:
        return f"{sum(row[user][key] is not None for row in rows)}/{len(rows)}"

    return {"cases": len(rows), "start_dice": round(float(np.mean([r["start_dice"] for r in rows])), 4),
            **{f"{user}_dice_after": {k: mean_of(user, k) for k in rows[0][user]["dice_after"]}
               for user in ("clicks", "today")},
            **{f"{user}_{key}_reached": reached(user, key) for user in ("clicks", "today")
               for key in ("noc90", "noc95")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ct", type=Path)
    parser.add_argument("--label", type=Path)
    parser.add_argument("--eval-slices", type=Path)
    parser.add_argument("--cases", type=Path, help="an nnU-Net folder: every case, then the means")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--no-refine", action="store_true")
    parser.add_argument("--clicks", type=int, default=max(CHECKPOINTS))
    parser.add_argument("--cache", type=Path, help="keep the network's probabilities in this folder")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--size", default="512,512,300", help="--speed: rows,cols,slices")
    args = parser.parse_args(argv)
    if args.clicks < 1:
        parser.error("--clicks must be at least 1")
    if not args.speed and not args.cases and not (args.ct and args.label):
        parser.error("give --ct and --label, --cases, or --speed")
    try:
        segmenter = Segmenter.from_file(args.model)
        cache = ProbabilityCache(args.cache, args.model)
        if args.speed:
            from benchmarks.click_speed import speed

            return speed(segmenter, cache, [int(v) for v in args.size.split(",")], args.clicks)
        options = dict(segmenter=segmenter, model=args.model, refine=not args.no_refine, count=args.clicks,
                       cache=cache)
        if args.cases:
            print(json.dumps({"means": means(run_cases(args.cases, **options)), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}))
        else:
            print(json.dumps(run_pair(args.ct, args.label, args.eval_slices, **options)))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
