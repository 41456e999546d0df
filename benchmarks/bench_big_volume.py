"""A dental-CBCT-sized case (800 x 800 x 600 voxels) from start to STL: peak memory and time, this code beside
today's code (another checkout, e.g. main when the work started) in the same run (issue 22).

    python benchmarks/bench_big_volume.py --baseline-tree /tmp/baseline-memory [--size 600 800 800]
        [--baseline-size 300 400 400] [--skip-app] [--skip-predict] [--cap-gb 14] [--json out.json]

The volume: the development head (../shared/data/cranium, 108 x 256 x 256 at 1.5 x 0.96 x 0.96 mm) resampled
to --size (slices, rows, cols), 0.27 x 0.31 x 0.31 mm at the default size, written slice by slice as a DICOM
series under /tmp/bench_big_volume (the way a CBCT arrives; never held whole by this process).

Each tree runs in child processes (PYTHONPATH = the tree), capped with RLIMIT_AS at --cap-gb so that a runaway
cannot take the machine down; the peak is the child's maxrss (os.wait4), per phase VmHWM after resetting it
(/proc/self/clear_refs):
  * predict: `main.py predict SERIES --out DIR` (the default model and policy: what a user runs);
  * the app (offscreen Qt, a fresh workspace): open the series (to the first slice shown), slice switches in the
    2x2 layout (axial, coronal, sagittal repainted), Segment Whole Case, the 3-D view's surface build (its
    worker's job; offscreen there is no OpenGL to draw it), the STL export (what Export 3-D... runs:
    assemble the label volume, build_mesh, export_mesh), and saving the case (Ctrl+S: every slice's JSON + PNG).
Today's code needs far more memory: --baseline-size runs it (and this code again) at a smaller size, and the
peaks are scaled by the voxel count (said so in the table). Timings on a shared machine are "under load".
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CRANIUM = ROOT.parent / "shared" / "data" / "cranium" / "dicom"
WORK = Path("/tmp/bench_big_volume")
GB = 1024 ** 3


# --- the volume on disk --------------------------------------------------------------------------------------
def build_series(size: tuple[int, int, int], folder: Path) -> dict:
    """The head resampled to `size`, written as a DICOM series slice by slice; returns its description."""
    import cv2
    from pydicom.uid import generate_uid

    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_io import write_ct_slice
    from core.io.loader import load_volume

    head = load_volume(CRANIUM)
    slices, rows, cols = size
    spacing = (head.spacing[0] * (head.num_slices - 1) / (slices - 1), head.spacing[1] * head.shape[1] / rows,
               head.spacing[2] * head.shape[2] / cols)
    info = {"shape": list(size), "spacing_mm": [round(s, 4) for s in spacing], "source": str(CRANIUM)}
    marker = folder / "series.json"
    if marker.is_file() and json.loads(marker.read_text()) == info:
        return info
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    uids = generate_uid(), generate_uid(), generate_uid()  # series, study, frame of reference
    for index in range(slices):
        position = index * (head.num_slices - 1) / (slices - 1)
        low = int(np.floor(position))
        high, fraction = min(low + 1, head.num_slices - 1), position - low
        plane = (1 - fraction) * head.hu[low].astype(np.float32) + fraction * head.hu[high].astype(np.float32)
        plane = cv2.resize(plane, (cols, rows), interpolation=cv2.INTER_LINEAR)
        stored = np.clip(np.rint(plane) + 1024, 0, 4095).astype(np.uint16)
        write_ct_slice(folder / f"IM{index:05d}.dcm", stored, index, spacing, uids, "HEAD AS CBCT",
                       [-cols * spacing[2] / 2, -rows * spacing[1] / 2, -index * spacing[0]])
    marker.write_text(json.dumps(info))
    return info


# --- children --------------------------------------------------------------------------------------------------
def run_child(tree: Path, args: list[str], cap_gb: float, timeout_s: float) -> dict:
    """Run `python ARGS` in `tree` with the tree first on the path; wall seconds, maxrss (GB), exit code, output."""
    env = {**os.environ, "PYTHONPATH": str(tree), "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    cap = int(cap_gb * GB)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    log = open(WORK / f"child-{os.getpid()}-{int(start)}.log", "w+")
    child = subprocess.Popen([sys.executable, *args], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=limit)
    try:
        _, status, usage = _wait4(child, timeout_s)
    finally:
        if child.poll() is None:
            child.kill()
    seconds = time.perf_counter() - start
    log.seek(0)
    output = log.read()
    log.close()
    return {"seconds": round(seconds, 1), "peak_gb": round(usage.ru_maxrss * 1024 / GB, 3),
            "exit": os.waitstatus_to_exitcode(status), "tail": output[-1500:]}


def _wait4(child: subprocess.Popen, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        if time.monotonic() > deadline:
            child.kill()
            return os.wait4(child.pid, 0)
        time.sleep(0.2)


def bench_predict(tree: Path, series: Path, out: Path, cap_gb: float) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    result = run_child(tree, ["main.py", "predict", str(series), "--out", str(out)], cap_gb, 4 * 3600)
    result["mask"] = str(out / "mandible_mask.nii.gz")
    return result


def bench_app(tree: Path, series: Path, cap_gb: float) -> dict:
    report = WORK / f"app-{tree.name}-{series.name}.json"
    report.unlink(missing_ok=True)
    result = run_child(tree, [str(ROOT / "benchmarks" / "big_volume_app.py"), str(series), str(report)], cap_gb,
                       4 * 3600)
    if report.is_file():
        result["phases"] = json.loads(report.read_text())
    return result


def mask_dice(a: str, b: str) -> float | None:
    import nibabel as nib

    if not (Path(a).is_file() and Path(b).is_file()):
        return None
    x, y = (np.asarray(nib.load(p).dataobj) > 0 for p in (a, b))
    if x.shape != y.shape:
        return None
    total = int(x.sum()) + int(y.sum())
    return 1.0 if total == 0 else 2.0 * int((x & y).sum()) / total


# --- the report ------------------------------------------------------------------------------------------------
def goal_gb(shape) -> float:
    """issue 22: predict peaks at <= 2.5 x the volume's int16 size + 1 GB."""
    return 2.5 * int(np.prod(shape)) * 2 / GB + 1.0


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return f"{model}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"


def print_report(results: dict) -> None:
    print(f"\nMachine: {machine()} (timings under load unless the machine was quiet)")
    for label, row in results.items():
        shape = row["shape"]
        print(f"\n{label}: {shape[0]} x {shape[1]} x {shape[2]} voxels, int16 {np.prod(shape) * 2 / GB:.2f} GB; "
              f"predict goal <= {goal_gb(shape):.2f} GB, app goal <= 4 GB")
        print("| Step | today's code: peak GB / s | this code: peak GB / s | peak ratio |")
        print("|---|---|---|---|")
        for step in ("predict", "app open", "2x2 slice switch", "segment", "3-D surface", "STL export", "save",
                     "app whole"):
            old, new = row.get("baseline", {}).get(step), row.get("current", {}).get(step)
            ratio = f"x{new['peak_gb'] / old['peak_gb']:.2f}" if old and new and old.get("peak_gb") else "-"
            print(f"| {step} | {_cell(old)} | {_cell(new)} | {ratio} |")
        if row.get("dice") is not None:
            print(f"predict masks, this code against today's: Dice {row['dice']:.4f}")


def _cell(entry: dict | None) -> str:
    if not entry:
        return "-"
    text = f"{entry['peak_gb']:.2f} GB"
    if entry.get("ms") is not None:
        text += f" / {entry['ms']:.0f} ms median"
    elif entry.get("seconds") is not None:
        text += f" / {entry['seconds']:.1f} s"
    if entry.get("exit", 0) != 0:
        text += f" (failed, exit {entry['exit']})"
    return text


def run_size(size, trees: dict[str, Path], args) -> dict:
    folder = WORK / f"series-{'x'.join(map(str, size))}"
    info = build_series(tuple(size), folder)
    print(f"series {info}", flush=True)
    row: dict = {"shape": list(size), "spacing_mm": info["spacing_mm"]}
    for name, tree in trees.items():
        steps: dict = {}
        if not args.skip_predict:
            steps["predict"] = bench_predict(tree, folder, WORK / f"predict-{name}-{'x'.join(map(str, size))}",
                                             args.cap_gb)
            print(f"  {name} predict: {_cell(steps['predict'])}", flush=True)
        if not args.skip_app:
            app = bench_app(tree, folder, args.cap_gb)
            for phase, entry in app.get("phases", {}).items():
                steps[phase] = entry
            # The whole run's peak is the highest phase's: resetting VmHWM also resets the child's maxrss.
            phase_peaks = [entry["peak_gb"] for entry in app.get("phases", {}).values()]
            steps["app whole"] = {"peak_gb": max([app["peak_gb"], *phase_peaks]), "seconds": app["seconds"],
                                  "exit": app["exit"]}
            print(f"  {name} app: {_cell(steps['app whole'])} {app.get('phases')}", flush=True)
            if app["exit"] != 0:
                print(app["tail"])
        row[name] = steps
    if not args.skip_predict and "baseline" in row and "current" in row:
        row["dice"] = mask_dice(row["baseline"]["predict"]["mask"], row["current"]["predict"]["mask"])
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", type=Path, help="a checkout of today's code (e.g. git worktree add)")
    parser.add_argument("--size", type=int, nargs=3, default=[600, 800, 800], metavar=("SLICES", "ROWS", "COLS"))
    parser.add_argument("--baseline-size", type=int, nargs=3, metavar=("SLICES", "ROWS", "COLS"),
                        help="run today's code (and this code again) at this smaller size too")
    parser.add_argument("--baseline-full", action="store_true", help="also run today's code at --size")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--skip-predict", action="store_true")
    parser.add_argument("--cap-gb", type=float, default=14.0, help="RLIMIT_AS of each child")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if not CRANIUM.is_dir():
        print(f"error: needs {CRANIUM} (../shared)", file=sys.stderr)
        return 2
    current = {"current": ROOT}
    both = dict(current, baseline=args.baseline_tree) if args.baseline_tree else current
    results = {}
    if args.baseline_size:
        results["smaller size"] = run_size(args.baseline_size, both, args)
    results["full size"] = run_size(args.size, both if args.baseline_full or not args.baseline_size else current,
                                    args)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
