"""One training step on this machine's CPU (or GPU), each way of running it beside the previous code in the same run.

    .venv/bin/python benchmarks/bench_train_step.py                 # 128 px, batch 4 (the app's retrain)
    .venv/bin/python benchmarks/bench_train_step.py --size 64 --repeats 1 --encoder plain   # a quick look

The step is the trainer's own (EpochRunner.train_step: windows, forward, focal loss, backward, Adam) on a fixed
batch of random slices, with the encoder learning (the paper's second stage) and frozen (its first stage, and the
app's CPU plan). Variants: the previous code (Adam's per-tensor loop, contiguous NCHW, fp32); fused Adam;
channels-last; both; and bf16 autocast with the adopted default, where the CPU has native bf16 (elsewhere skipped
with the reason, or timed emulated with --emulated-bf16). Each figure is the fastest of `--repeats` steps after a
warm-up step, the variants taking turns so that all see the same load. Prints one JSON line per variant and stage:
images/s and the ratio to the previous code, and the same in CPU seconds of this process (steadier under load);
then one line naming the machine (CPU model and bf16 flags).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.runtime import Runtime, cpu_has_fast_bf16  # noqa: E402
from core.model.unet import MandibleUNet  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.epoch import EpochRunner  # noqa: E402
from core.training.schedule import FROZEN, UNFROZEN  # noqa: E402
from core.training.slices import model_windows  # noqa: E402
from core.training.speed import StepSpeed  # noqa: E402

PREVIOUS = "previous code (Adam loop, NCHW, fp32)"


BF16 = "adopted default + bf16 autocast"


def variants(device: torch.device, bf16: bool) -> dict[str, tuple[StepSpeed, str]]:
    chosen = {PREVIOUS: (StepSpeed(False, False), "fp32"),
              "fused Adam": (StepSpeed(True, False), "fp32"),
              "channels-last": (StepSpeed(False, True), "fp32"),
              "fused Adam + channels-last": (StepSpeed(True, True), "fp32")}
    if bf16:
        chosen[BF16] = (StepSpeed.for_device(device), "bf16")
    return chosen


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def bf16_flags() -> list[str]:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    return sorted(f for f in flags.split(":", 1)[1].split() if f in ("avx512_bf16", "amx_bf16", "amx_tile"))


def make_step(config: TrainingConfig, stage: str, speed: StepSpeed, precision: str, device: torch.device):
    """A function running one training step of a fresh network (same seed for every variant) on a fixed batch."""
    torch.manual_seed(0)
    runtime = Runtime.select(device.type, precision)
    runner = EpochRunner(MandibleUNet(config.model_config()), runtime, config, config.schedule(), speed)
    runner.enter_stage(stage, None)
    generator = torch.Generator(device=device).manual_seed(0)
    size, batch = config.input_size, config.batch_size
    hu = torch.rand(batch, 1, size, size, generator=generator, device=device) * 2500 - 1000
    labels = (hu[:, 0] > 700).to(torch.uint8)
    windows = model_windows(runner.model_config).to(device).expand(batch, 3, 2)
    lr = runner.schedule.lr(stage)
    return lambda: float(runner.train_step(hu, labels, windows, lr))  # float() waits for the device


def measure(config: TrainingConfig, stage: str, device: torch.device, repeats: int,
            bf16: bool) -> dict[str, tuple[float, float]]:
    """(fastest wall-clock seconds, fewest CPU seconds of this process) of a step of each variant, the variants
    taking turns. The CPU seconds are less disturbed by other jobs on a shared machine than the wall clock."""
    steps = {name: make_step(config, stage, speed, precision, device)
             for name, (speed, precision) in variants(device, bf16).items()}
    for step in steps.values():
        step()  # warm-up: allocations, oneDNN primitive caches
    wall = {name: float("inf") for name in steps}
    cpu = dict(wall)
    for _ in range(repeats):
        for name, step in steps.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            step()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {name: (wall[name], cpu[name]) for name in steps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--encoder", default="resnet50")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--emulated-bf16", action="store_true",
                        help="time bf16 autocast also on a CPU without native bf16 (about 6x slower there)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    config = TrainingConfig(data=[], out="", input_size=args.size, batch_size=args.batch, encoder=args.encoder,
                            device=args.device)
    native = cpu_has_fast_bf16() if device.type == "cpu" else True
    for stage in (UNFROZEN, FROZEN):
        best = measure(config, stage, device, args.repeats, native or args.emulated_bf16)
        previous, previous_cpu = best[PREVIOUS]
        for name, (seconds, cpu_seconds) in best.items():
            line = {"figure": f"train_step_{args.size}px_{stage}", "variant": name,
                    "value": round(args.batch / seconds, 2), "unit": "images/s", "batch": args.batch,
                    "baseline": PREVIOUS, "baseline_value": round(args.batch / previous, 2),
                    "ratio": round(previous / seconds, 2), "cpu_seconds_per_image": round(cpu_seconds / args.batch, 3),
                    "cpu_ratio": round(previous_cpu / cpu_seconds, 2)}
            if "bf16" in name and not native:
                line["note"] = "no native bf16 on this CPU: emulated, not a candidate here"
            print(json.dumps(line), flush=True)
        if not (native or args.emulated_bf16):
            print(json.dumps({"figure": f"train_step_{args.size}px_{stage}", "variant": BF16,
                              "skipped": "no native bf16 on this CPU (--emulated-bf16 times it anyway)"}))
    print(json.dumps({"machine": cpu_name(), "bf16_flags": bf16_flags(), "native_bf16": native,
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "encoder": args.encoder}))


if __name__ == "__main__":
    main()
