"""Linked views and multi-slice tools on the development head (../shared/data/cranium).

  3-D update     an edit (a 6 mm disk painted into one slice of the label), then ViewLayout.labels_changed():
                 time until the new mesh is on screen (debounce + worker build + upload + repaint), and the
                 GUI thread's worst stall meanwhile (a 10 ms QTimer measuring gaps); baselines in the same
                 run: the live mesh alone and the export's build_mesh, synchronously, and the idle
                 timer's worst gap
  reslice        moving the crosshair so a coronal / sagittal view re-renders (grey + overlay + repaint),
                 vs the axial view's render of one slice, same run; and the slice switch with three views
                 visible (the axial re-renders, the other two move their lines)
  effort         a scripted user corrects the reference model's prediction until the 3-D Dice against
                 the label is >= 0.95: each round it replaces the worst slice by the label (one touched
                 slice), then, with the tools, accepts each interpolation / propagation whose preview
                 raises the Dice; counts touched slices with the tools vs slice by slice

  window         the app's main window on the head: slice switch (A/D) with one view vs the 2x2 layout
                 (axial, coronal, sagittal; 3-D view paused or absent), same run

    python benchmarks/bench_views.py [--edits 10] [--moves 100] [--prediction CACHE.npy]
    python benchmarks/bench_views.py --window [--moves 100]

Run under Xvfb (xvfb-run -a) for the 3-D view to render; offscreen it measures the build path only.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.big_volume_app import slice_switch_times  # noqa: E402
from benchmarks.bench_correction import prediction  # noqa: E402
from benchmarks.bench_gui import StallMeter, idle, p95  # noqa: E402
from core.annotation.interpolation import interpolate_gap  # noqa: E402
from core.annotation.propagation import propagate_all  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.io.mesh import build_mesh  # noqa: E402
from core.io.nifti import load_nifti_labels  # noqa: E402
from core.windowing import WINDOW_PRESETS  # noqa: E402
from gui.app import make_application  # noqa: E402
from gui.views.crosshair import Crosshair  # noqa: E402
from gui.views.layout import ViewLayout  # noqa: E402
from gui.views.planes import ArrayLabels, Plane  # noqa: E402
from gui.views.surface_mesh import surface_of  # noqa: E402

CRANIUM = ROOT.parent / "shared" / "data" / "cranium"
MODEL = ROOT.parent / "shared" / "models" / "okbp128_gpu36.msmodel"
TARGET_DICE = 0.95


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


# --- 3-D update ------------------------------------------------------------------------------------
def bench_3d_update(app, views: ViewLayout, volume, edits: int) -> None:
    labels = views.labels.labels
    start = time.perf_counter()
    surface_of(labels, volume)
    bare = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    build_mesh(labels, volume)
    export = (time.perf_counter() - start) * 1000
    meter = StallMeter()
    meter.start()
    idle(app, 1.0)
    idle_gap = meter.stop()
    latencies, ready, stalls, arrivals = [], [], [], []
    views.builder.mesh_ready.connect(lambda *_: arrivals.append(time.perf_counter()))
    rows, cols = np.mgrid[:volume.shape[1], :volume.shape[2]]
    for n in range(edits):
        k, before = 90 + n % 10, len(arrivals)
        meter.start()
        labels[k][(rows - 110) ** 2 + (cols - 75 - n) ** 2 <= 36] = 1  # the edit
        edit_end = time.perf_counter()
        views.labels_changed({k})
        if not views.surface.available:
            views.builder.labels_changed()  # offscreen: measure the build path without a canvas
        while len(arrivals) == before or views.builder.busy:
            app.processEvents()
            time.sleep(0.001)
        if views.surface.available:
            views.surface.canvas.native.repaint()
        shown = time.perf_counter()
        stalls.append(meter.stop())
        latencies.append((shown - edit_end) * 1000)
        ready.append((arrivals[-1] - edit_end) * 1000)
        idle(app, 0.2)
    rendered = "rendered" if views.surface.available else f"not rendered ({views.surface.problem})"
    print(f"3-D update after an edit ({rendered}): median {np.median(latencies):.0f} ms, "
          f"worst {max(latencies):.0f} ms; mesh in the GUI thread after {np.median(ready):.0f} ms "
          f"(debounce {views.builder._timer.interval()} ms included); "
          f"the live mesh alone {bare:.0f} ms, the export's build_mesh {export:.0f} ms")
    print(f"  worst GUI-thread stall meanwhile {max(stalls):.0f} ms; idle timer's worst gap {idle_gap:.0f} ms")


# --- reslice ---------------------------------------------------------------------------------------
def bench_reslice(app, views: ViewLayout, moves: int) -> None:
    crosshair = views.crosshair
    times = {plane: [] for plane in Plane}
    for plane in (Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL):
        view, size = views.planes[plane], views.volume.shape[plane.axis]
        for n in range(moves):
            start = time.perf_counter()
            crosshair.move_axis(plane.axis, (crosshair.point[plane.axis] + 7) % size)
            view.viewport().repaint()
            times[plane].append((time.perf_counter() - start) * 1000)
            app.processEvents()
    switch = []
    for n in range(moves):
        start = time.perf_counter()
        crosshair.move_axis(0, (crosshair.point[0] + 1) % views.volume.num_slices)
        for view in views.planes.values():
            view.viewport().repaint()
        switch.append((time.perf_counter() - start) * 1000)
        app.processEvents()
    axial = times[Plane.AXIAL]
    for plane in (Plane.CORONAL, Plane.SAGITTAL):
        print(f"{plane.title} reslice render: median {np.median(times[plane]):.1f} ms, p95 {p95(times[plane]):.1f} ms "
              f"(axial render, same run: median {np.median(axial):.1f} ms, p95 {p95(axial):.1f} ms)")
    print(f"Slice switch with three views visible: median {np.median(switch):.1f} ms, p95 {p95(switch):.1f} ms")


# --- correction effort -----------------------------------------------------------------------------
def slice_by_slice(masks: np.ndarray, label: np.ndarray) -> int:
    masks = masks.copy()
    touched = 0
    while dice(masks, label) < TARGET_DICE:
        worst = int(np.argmax([(m != l).sum() for m, l in zip(masks, label)]))
        masks[worst] = label[worst]
        touched += 1
    return touched


def with_tools(masks: np.ndarray, label: np.ndarray, volume, overwrite_predicted: bool) -> tuple[int, int]:
    """(touched slices, accepted tool actions); without overwrite_predicted the tools fill empty slices only."""
    masks, edited, actions = masks.copy(), set(), 0
    spacing = volume.spacing[1:]
    predicted = {k for k in range(volume.num_slices) if masks[k].any()}
    while dice(masks, label) < TARGET_DICE:
        errors = [(m != l).sum() if k not in edited else -1 for k, (m, l) in enumerate(zip(masks, label))]
        worst = int(np.argmax(errors))
        masks[worst] = label[worst]
        edited.add(worst)
        free = set(range(volume.num_slices)) - edited - (set() if overwrite_predicted else predicted)
        for proposal in _proposals(worst, masks, edited, free, volume, spacing):
            trial = masks.copy()
            for k, mask in proposal.items():
                trial[k] = mask
            if dice(trial, label) > dice(masks, label):
                masks, actions = trial, actions + 1
    return len(edited), actions


def _proposals(k: int, masks, edited: set[int], free: set[int], volume, spacing):
    """Propagate up and down from slice k; interpolate to the nearest edited slice on each side."""
    for step in (-1, 1):
        yield propagate_all(volume.hu, k, masks[k], step, free, spacing).masks()
    below = [e for e in edited if e < k - 1]
    above = [e for e in edited if e > k + 1]
    for other in ([max(below)] if below else []) + ([min(above)] if above else []):
        filled = interpolate_gap(k, masks[k], other, masks[other], spacing)
        yield {i: m for i, m in filled.items() if i in free}


def bench_effort(volume, label: np.ndarray, cache: Path | None) -> None:
    predicted = prediction(volume, cache, MODEL)
    start = dice(predicted, label)
    by_hand = slice_by_slice(predicted, label)
    print(f"Correction effort to 3-D Dice >= {TARGET_DICE} from the reference model's prediction "
          f"(3-D Dice {start:.3f}); slice by slice: {by_hand} slices touched")
    for overwrite in (True, False):
        touched, actions = with_tools(predicted, label, volume, overwrite)
        rule = "may overwrite predicted slices" if overwrite else "fill empty slices only"
        print(f"  with interpolation + propagation ({rule}): {touched} slices touched, {actions} tool actions accepted")


def bench_window(app, moves: int) -> None:
    """Slice switch in the real main window: one view, then 2x2, on the same case in the same run."""
    import tempfile

    from gui.main_window import MainWindow

    window = MainWindow(Path(tempfile.mkdtemp()) / "workspace")
    window.resize(1600, 1000)
    window.show()
    opened = []
    window.case_opened.connect(opened.append)
    window.open_path(CRANIUM / "dicom")
    while not opened:
        idle(app, 0.05)
    results = {}
    for mode in ("single", "2x2"):
        window.case_views.set_mode(mode)
        idle(app, 0.5)
        results[mode] = slice_switch_times(app, window, moves)
    surface = window.case_views.layout.surface
    print(f"Main window slice switch: one view median {np.median(results['single']):.1f} ms, "
          f"p95 {p95(results['single']):.1f} ms; 2x2 (3-D {'live' if surface.available else 'not drawn'}) "
          f"median {np.median(results['2x2']):.1f} ms, p95 {p95(results['2x2']):.1f} ms")
    window.session.case.save()  # no question on close
    window.close()


def _views(app, volume, label, live_3d: bool) -> ViewLayout:
    """The 2x2 layout on the head; live_3d draws the 3-D view even on software OpenGL."""
    views = ViewLayout(volume, ArrayLabels(label.copy()), Crosshair(volume.shape, (95, 110, 80)),
                       WINDOW_PRESETS["bone"], allow_software_gl=live_3d)
    views.resize(1200, 960)
    views.show()
    idle(app, 0.5)
    while views.builder.busy:
        idle(app, 0.05)
    return views


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--moves", type=int, default=100)
    parser.add_argument("--prediction", type=Path, default=None, help="cache file for the model's prediction")
    parser.add_argument("--skip-effort", action="store_true")
    parser.add_argument("--window", action="store_true", help="only the main window's slice switch")
    args = parser.parse_args()
    if not CRANIUM.is_dir():
        print(f"error: needs {CRANIUM} (../shared)", file=sys.stderr)
        return 2
    print(f"Machine: {platform.node()} {os.cpu_count()} cores, Qt platform {os.environ['QT_QPA_PLATFORM']}")
    app = make_application([])
    if args.window:
        bench_window(app, args.moves)
        return 0
    volume = load_volume(CRANIUM / "dicom")
    label = load_nifti_labels(CRANIUM / "label.nii.gz", volume)
    for live_3d in (False, True):
        views = _views(app, volume, label, live_3d)
        print(f"-- 3-D view {'live' if views.surface.available else 'not drawn: ' + views.surface.message.text()}")
        if live_3d:
            bench_3d_update(app, views, volume, args.edits)
        bench_reslice(app, views, args.moves)
        views.close()
        views.deleteLater()
        idle(app, 0.2)
    if not args.skip_effort:
        bench_effort(volume, label, args.prediction)
    return 0


if __name__ == "__main__":
    sys.exit(main())
