"""Desktop-app responsiveness, measured on the real main window (offscreen unless a display is set).

  slice switch   SliceController.show_slice on a synthetic 512x512 case with a mask on every slice
                 (window/level LUT, overlay composition, pixmaps, a forced repaint of the view)
                 vs the bare render path (LUT + QImage + QPixmap, no overlay, no repaint), same run
  open           a synthetic 300-slice 512x512 DICOM series: time to the first displayed slice, and the
                 GUI thread's worst stall while it loads (a 10 ms QTimer measuring gaps), vs the timer's
                 worst gap while idle, same run
  save           the worst stall while Ctrl+S writes 40 edited slices as Labelme JSON + PNG
  brush          one brush dab on a 512x512 slice, from the stroke point to the view repainted: the changed
                 box only (this code) vs the old path, the whole overlay rebuilt and the whole view repainted, same run
  drafts         the worst stall while the drafts of a whole case of predictions (128 slices) are written a few
                 at a time by the autosave timer, vs writing them all at once in the GUI thread, same run

    .venv/bin/python benchmarks/bench_gui.py [--slices 300] [--size 512] [--switches 200]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QPixmap  # noqa: E402
from PySide6.QtWidgets import QGraphicsView  # noqa: E402

from benchmarks.bench_io import write_synthetic_series  # noqa: E402
from core.windowing import WINDOW_PRESETS, hu_to_display  # noqa: E402
from core.workspace.edit_rules import Allow  # noqa: E402
from gui.app import make_application  # noqa: E402
from gui.overlay import gray_to_qimage  # noqa: E402


class StallMeter:
    """Gaps between 10 ms timer ticks on the GUI thread; the worst gap is the worst stall."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last: float | None = None
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = None
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps) * 1000 if self.gaps else float("nan")


def wait_for(app, signal, timeout_s: float = 300.0):
    """Run the event loop until `signal` fires; returns its arguments."""
    box: list = []
    signal.connect(lambda *args: box.append(args))
    deadline = time.perf_counter() + timeout_s
    while not box:
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no signal within {timeout_s} s")
    return box[0]


def idle(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def bench_open(app, window, folder: Path) -> None:
    meter = StallMeter()
    meter.start()
    idle(app, 1.0)
    idle_worst = meter.stop()
    meter.start()
    start = time.perf_counter()
    window.open_path(folder)
    wait_for(app, window.case_opened)
    first_slice = time.perf_counter() - start
    worst = meter.stop()
    print(f"open {window.session.num_slices}x{window.session.volume.shape[1]}^2: first slice shown after "
          f"{first_slice:.2f} s; GUI worst stall {worst:.0f} ms (idle timer worst gap {idle_worst:.0f} ms, "
          f"ratio {worst / idle_worst:.1f}x)")


def bench_switch(app, window, switches: int) -> None:
    session, controller, view = window.session, window.controller, window.view
    rows, cols = session.volume.shape[1:]
    mask = _ring(rows, cols)
    count = min(session.num_slices, 64)
    for index in range(count):
        session.take_prediction(index, np.roll(mask, index, axis=1))
    window.resize(1400, 900)
    idle(app, 0.3)
    window_bone = WINDOW_PRESETS["bone"]
    bare, full = [], []
    for step in range(switches):
        index = step % count
        t0 = time.perf_counter()
        QPixmap.fromImage(gray_to_qimage(hu_to_display(session.volume.hu[index], window_bone)))
        bare.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        controller.show_slice(index)
        view.viewport().repaint()
        full.append((time.perf_counter() - t0) * 1000)
    print(f"slice switch {rows}x{cols} with overlay + repaint: p95 {p95(full):.1f} ms, median "
          f"{np.median(full):.1f} ms; bare render path p95 {p95(bare):.1f} ms; ratio {p95(full) / p95(bare):.1f}x")


def bench_brush(app, window, dabs: int) -> None:
    session, controller, view = window.session, window.controller, window.view
    controller.show_slice(5)
    rows, cols = session.volume.shape[1:]
    modes = QGraphicsView.ViewportUpdateMode

    def dab_times(whole: bool, offset: int) -> list[float]:
        times = []
        editor = controller.editor  # what the brush tool calls
        editor.begin_stroke(erase=False)
        for n in range(dabs):
            x, y = 40 + (3 * n) % (cols - 80), 40 + offset + 14 * ((3 * n) // (cols - 80))
            start = time.perf_counter()
            editor.stroke_to(x, y % (rows - 40))
            if whole:  # what every dab did before: the whole overlay rebuilt and set
                controller.render_overlay()
            app.processEvents()  # the view repaints what was marked dirty
            times.append((time.perf_counter() - start) * 1000)
        editor.end_stroke()
        return times

    idle(app, 0.3)
    view.setViewportUpdateMode(modes.FullViewportUpdate)
    before = dab_times(True, 0)
    view.setViewportUpdateMode(modes.MinimalViewportUpdate)
    after = dab_times(False, 7)
    print(f"brush dab {rows}x{cols}: changed box only p95 {p95(after):.1f} ms, median {np.median(after):.1f} ms; "
          f"whole overlay + whole view (before) p95 {p95(before):.1f} ms, median {np.median(before):.1f} ms; "
          f"ratio {p95(before) / p95(after):.1f}x")


def bench_save(app, window, slices: int) -> None:
    session = window.session
    for index in range(slices):
        session.set_current(index)
        window.controller.editor.add_polygon([(40, 40), (200, 60), (180, 220), (50, 200)])
    meter = StallMeter()
    meter.start()
    start = time.perf_counter()
    window.save_case()
    wait_for(app, window.saved)
    took = time.perf_counter() - start
    print(f"save {slices} slices: {took:.2f} s; GUI worst stall {meter.stop():.0f} ms")


def _ring(rows: int, cols: int) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    ring = ((xx - cols / 2) ** 2 / (cols / 3) ** 2 + (yy - rows / 2) ** 2 / (rows / 4) ** 2)
    return ((ring < 1.0) & (ring > 0.7)).astype(np.uint8)


def bench_drafts(app, window, slices: int) -> None:
    session = window.session
    mask = _ring(*session.volume.shape[1:])
    slices = min(slices, session.num_slices)

    def predict_all(shift: int) -> None:  # what a whole-case segmentation hands the case, slice by slice
        for index in range(slices):
            session.take_prediction(index, np.roll(mask, index + shift, axis=1), 0.9, Allow(human=True))

    predict_all(1)
    start = time.perf_counter()
    window.autosave_now()  # baseline: every draft at once in the GUI thread
    at_once = (time.perf_counter() - start) * 1000
    window.autosave_ms = 10
    predict_all(2)
    meter = StallMeter()
    meter.start()
    start = time.perf_counter()
    while session.case.pending_drafts:
        app.processEvents()
        time.sleep(0.001)
    took = time.perf_counter() - start
    worst = meter.stop()
    print(f"drafts of {slices} predicted slices: a few at a time, GUI worst stall {worst:.0f} ms ({took:.2f} s in "
          f"all); all at once (baseline) {at_once:.0f} ms in one stall; ratio {at_once / worst:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--dabs", type=int, default=200)
    args = parser.parse_args()
    app = make_application([])
    from gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "series"
        folder.mkdir()
        print(f"writing a synthetic {args.slices}-slice {args.size}x{args.size} series…", flush=True)
        write_synthetic_series(folder, args.slices, args.size)
        window = MainWindow(Path(tmp) / "workspace", autosave_ms=60_000)
        window.show()
        bench_open(app, window, folder)
        bench_switch(app, window, args.switches)
        bench_brush(app, window, args.dabs)
        bench_save(app, window, min(40, args.slices))
        bench_drafts(app, window, 128)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
