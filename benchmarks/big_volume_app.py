"""The app's side of benchmarks/bench_big_volume.py, run in a child process with PYTHONPATH = the tree to measure.

    python big_volume_app.py SERIES REPORT.json

Opens the real main window (offscreen) on a fresh workspace and measures, phase by phase, the time and the
peak memory (VmHWM, reset before each phase): open, slice switches in 2x2, Segment Whole Case, the 3-D view's
surface build, Export 3-D's STL, saving the case (Ctrl+S). Uses only what both trees have (MainWindow and its parts), never this tree's
modules.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SWITCHES = 30


def vm_hwm_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1024 ** 3
    return float("nan")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def idle(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def wait_until(app, done, timeout_s: float = 4 * 3600) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done():
        app.processEvents()
        time.sleep(0.005)
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not finish in time")


def main() -> int:
    series, report = Path(sys.argv[1]), Path(sys.argv[2])
    try:  # what main.py does before the app starts, in the trees that have it
        from core.process_memory import keep_large_blocks_mapped
    except ImportError:
        pass
    else:
        keep_large_blocks_mapped()
    from gui.app import make_application
    from gui.main_window import MainWindow

    app = make_application([sys.argv[0]])
    phases: dict[str, dict] = {}

    @contextmanager
    def phase(name: str):
        reset_peak()
        entry = phases[name] = {}
        start = time.perf_counter()
        yield entry
        entry.setdefault("seconds", round(time.perf_counter() - start, 2))
        entry["peak_gb"] = round(vm_hwm_gb(), 3)
        report.write_text(json.dumps(phases, indent=1))
        print(name, entry, flush=True)

    window = MainWindow(Path(tempfile.mkdtemp(prefix="bench-big-")) / "workspace")
    window.resize(1600, 1000)
    window.show()
    idle(app, 0.5)
    with phase("app open"):
        opened = []
        window.case_opened.connect(opened.append)
        window.open_path(series)
        wait_until(app, lambda: opened)
        idle(app, 0.2)
    with phase("2x2 slice switch") as entry:
        window.case_views.set_mode("2x2")
        idle(app, 0.5)
        entry["ms"] = switch_ms(app, window)
    with phase("segment"):
        segmenting = window.ai.segmenting
        finished = []
        segmenting.predict.finished.connect(finished.append)
        segmenting.predict.failed.connect(finished.append)
        if not segmenting.segment_case():
            raise RuntimeError("Segment Whole Case did not start (no active model?)")
        wait_until(app, lambda: finished)
        idle(app, 2.0)  # the drafts the prediction queued
    with phase("3-D surface"):
        builder = window.case_views.layout.builder
        meshes = []
        builder.mesh_ready.connect(meshes.append)
        builder.build_now()
        wait_until(app, lambda: meshes and not builder.busy)
    with phase("STL export") as entry:
        entry["faces"] = export_stl(app, window, Path(tempfile.mkdtemp(prefix="bench-big-stl-")) / "mandible.stl")
    with phase("save"):  # Ctrl+S of the whole segmented case: every slice's Labelme JSON + PNG
        window.session.case.save()
    window.close()
    return 0


def switch_ms(app, window) -> float:
    return round(float(np.median(slice_switch_times(app, window, SWITCHES))), 1)


def slice_switch_times(app, window, count: int) -> list[float]:
    """Milliseconds of `count` switches to the next slice, each until every shown view has repainted (the one
    view, or the 2x2 planes). Stdlib and numpy only: bench_views.py imports it too."""
    layout = window.case_views.layout
    views = [window.view] + ([] if layout is None else list(layout.planes.values()))
    times = []
    for _ in range(count):
        start = time.perf_counter()
        window.controller.show_slice((window.session.current + 1) % window.session.num_slices)
        for view in views:
            view.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
        app.processEvents()
    return times


def export_stl(app, window, path: Path) -> int:
    """Export 3-D... as the user runs it: the dialog builds the mesh, then Save Mesh writes the STL."""
    window.exports.export_3d()
    dialog = window.exports.export_dialog
    built = []
    dialog.mesh_ready.connect(built.append)
    dialog.build_failed.connect(built.append)
    wait_until(app, lambda: built)
    if isinstance(built[0], str):
        raise RuntimeError(f"the mesh was not built: {built[0]}")
    dialog._ask_path = lambda *args: path
    if dialog.save_mesh() is None or not path.is_file():
        raise RuntimeError("the STL was not written")
    faces = dialog.result.faces
    dialog.done(0)
    return faces


if __name__ == "__main__":
    sys.exit(main())
