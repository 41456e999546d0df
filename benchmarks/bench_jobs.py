"""The GUI thread while the app's long jobs run, and how soon Cancel stops a training run (decision 153:
these are figures, never test assertions). Real MainWindow, offscreen unless a display is set.

  baseline    a 10-ms QTimer on the GUI thread of the idle window: its worst gap, measured in this run
  loading     opening the bundled sample (128-slice RLE DICOM)
  segmenting  Segment Whole Case on the sample (a tiny 64-px model written here, or --model)
  retraining  Retrain on the sample's reviewed clinical contour (64 px, 1 frozen + 1 unfrozen epoch, from scratch)
  cancel      Cancel clicked at the first step of epoch 2 of a 3-epoch run: time until the run reports `cancelled`,
              beside the median time between two steps of the same run (the trainer checks the flag before each);
              then Resume runs it to the end (worst stall over both)

Each stall is the worst gap between two ticks of the 10-ms timer, printed beside the idle baseline.

    .venv/bin/python benchmarks/bench_jobs.py [--model PATH]
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.bench_gui import StallMeter, idle, wait_for  # noqa: E402
from core.app_paths import sample_case_dir, sample_label_path  # noqa: E402
from core.io.labels import load_labels  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.workspace import OpenCase, Workspace  # noqa: E402
from gui.app import make_application  # noqa: E402

TRAIN = dict(batch_size=4, input_size=64, init="none", max_slices_per_case=16, val_fraction=0.0)


class CollectionLog:
    """Python's garbage collections (they run in the GUI thread: decision 150) since the last reset."""

    def __init__(self) -> None:
        self.durations_ms: list[float] = []
        self._began = 0.0
        gc.callbacks.append(self._on_collection)

    def _on_collection(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.durations_ms.append((time.perf_counter() - self._began) * 1000)

    def reset(self) -> None:
        self.durations_ms.clear()

    def __str__(self) -> str:
        return f"{len(self.durations_ms)}, longest {max(self.durations_ms, default=0):.0f} ms"


class GapMeter(StallMeter):
    """bench_gui's meter, also counting the gap before its first tick."""

    def start(self) -> None:
        super().start()
        self._last = time.perf_counter()


def reviewed_sample_workspace(root: Path) -> None:
    """The sample's clinical contour, reviewed and saved: something to retrain on."""
    volume = load_volume(sample_case_dir())
    case = OpenCase(volume, Workspace.create(root).add_case(volume, sample_case_dir()))
    for index in case.import_labels(load_labels(sample_label_path(), volume)):
        case.toggle_reviewed(index)
    case.save()


def tiny_model(path: Path) -> Path:
    import torch

    from core.model.config import ModelConfig
    from core.model.model_file import save_model
    from core.model.unet import MandibleUNet

    torch.manual_seed(0)
    save_model(path, MandibleUNet(ModelConfig(input_size=64, mm_per_pixel=8.0)),
               {"encoder_init": {"kind": "none", "source": "bench_jobs"}})
    return path


def measured(app, start, done_signal) -> tuple[float, float]:
    """(worst GUI stall in ms, seconds) while the job started by `start()` runs until `done_signal`."""
    meter = GapMeter()
    meter.start()
    began = time.perf_counter()
    start()
    wait_for(app, done_signal, timeout_s=1800)
    return meter.stop(), time.perf_counter() - began


def until(app, condition, timeout_s: float = 1800) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"still waiting after {timeout_s} s")
        idle(app, 0.001)


def cancel_and_resume(app, ai) -> tuple[float, float, float]:
    """(seconds from Cancel to `cancelled`, the median seconds between two training steps before it, and the
    worst stall in ms over the run, the cancel and the resumed run)."""
    from core.training.events import StepDone
    from core.training.retrain import RetrainPlan

    steps: list[tuple[float, object]] = []  # (when, a core.training.events event)
    ended: list[str] = []
    ai.training.train.event.connect(lambda progress: steps.append((time.perf_counter(), progress)))
    ai.training.train.cancelled.connect(lambda: ended.append("cancelled"))
    ai.training.train.finished.connect(lambda: ended.append("finished"))
    meter = GapMeter()
    meter.start()
    ai.training.train.start(RetrainPlan(dict(epochs=3, freeze_epochs=1, **TRAIN)))
    until(app, lambda: any(isinstance(p, StepDone) and p.epoch == 1 for _, p in steps))
    clicked = time.perf_counter()
    ai.training.cancel()
    until(app, lambda: "cancelled" in ended)
    latency = time.perf_counter() - clicked
    until(app, lambda: "finished" in ended)
    ai.training.resume_training()
    wait_for(app, ai.training.train.finished, timeout_s=1800)
    times = [at for at, p in steps if isinstance(p, StepDone) and at < clicked]
    step = statistics.median(b - a for a, b in zip(times, times[1:])) if len(times) > 1 else float("nan")
    return latency, step, meter.stop()


def row(what: str, stall_ms: float, baseline_ms: float, collections: CollectionLog, extra: str = "") -> None:
    print(f"| {what} | {stall_ms:.0f} ms | ×{stall_ms / baseline_ms:.1f} | {collections} | {extra} |", flush=True)
    collections.reset()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model to segment with (default: a tiny 64-px model)")
    args = parser.parse_args()
    app = make_application([])
    collections = CollectionLog()
    from core.training.events import StepDone
    from core.training.retrain import RetrainPlan
    from gui.main_window import MainWindow

    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        reviewed_sample_workspace(Path(tmp) / "workspace")
        window = MainWindow(Path(tmp) / "workspace", autosave_ms=60_000)
        window.resize(1400, 900)
        window.show()
        ai = window.ai
        meter = GapMeter()
        collections.reset()
        meter.start()
        idle(app, 2.0)  # the collector's first passes take in everything imported since it started
        startup = meter.stop()
        startup_collections = str(collections)
        collections.reset()
        meter.start()
        idle(app, 3.0)
        baseline = meter.stop()
        print("| While… | Worst GUI stall | vs idle baseline | Collections, longest | |\n|---|---|---|---|---|")
        row("idle (baseline: a 10-ms timer's worst gap)", baseline, baseline, collections)
        print(f"| the first 2 s after start-up | {startup:.0f} ms | ×{startup / baseline:.1f} | "
              f"{startup_collections} | |")
        stall, took = measured(app, lambda: window.open_path(sample_case_dir()), window.case_opened)
        row("opening the sample (128 RLE slices)", stall, baseline, collections, f"opened in {took:.1f} s")
        version = ai.models.versions.import_model(args.model or tiny_model(Path(tmp) / "tiny.msmodel"))
        ai.models.activate(version.version_id)
        collections.reset()
        stall, took = measured(app, ai.segmenting.segment_case, ai.segmenting.predict.finished)
        row(f"segmenting the whole case ({version.label})", stall, baseline, collections, f"{took:.1f} s")
        stall, took = measured(app, lambda: ai.training.train.start(RetrainPlan(dict(epochs=2, freeze_epochs=1, **TRAIN))),
                               ai.training.train.finished)
        row("retraining (64 px, 1 + 1 epochs, child process)", stall, baseline, collections, f"{took:.1f} s")
        latency, step, stall = cancel_and_resume(app, ai)
        row("cancel in epoch 2, then resume to the end", stall, baseline, collections,
            f"Cancel → cancelled: {latency * 1000:.0f} ms (one training step: {step * 1000:.0f} ms)")
        window.hide()  # not close(): it would ask about the unsaved predictions
        window.deleteLater()
    return 0


if __name__ == "__main__":
    sys.exit(main())
