"""Training and inference throughput on the device, each figure beside a baseline measured in the same run.
Prints ONE JSON line per figure: {"figure", "value", "unit", "baseline", "baseline_value", "device", ...}, or
{"figure", "skipped": reason} where the figure needs a GPU that is not there.

    .venv/bin/python benchmarks/bench_gpu.py            # on a CUDA GPU: the issue's sizes (a few minutes)
    .venv/bin/python benchmarks/bench_gpu.py --cpu      # on this CPU: small sizes
    .venv/bin/python benchmarks/bench_gpu.py --ci       # the smallest sizes (the suite runs this)
    .venv/bin/python benchmarks/bench_gpu.py --compile max-autotune   # compiled inference in that mode

Figures: augmentation images/s, batched torch (now) against the per-sample numpy/OpenCV path it replaced;
training images/s at 128 and 512 px, the whole trainer step (batch from the device-resident slices,
augmentation, windows, forward, backward, Adam) against the network-only step on a ready input; the paper's
100-epoch schedule at 128 px, extrapolated from a measured epoch (training + validation + checkpoint) of
4,809 slices, the reference model's training set; inference slices/s at 512 px by batch size, the
Segmenter's path (host canvas in, probabilities back on the host) against the network-only forward;
peak GPU memory; on CUDA, inference slices/s of the Segmenter with its network compiled (--compile, default
reduce-overhead: CUDA graphs) against the same Segmenter eager, by batch size. Each time is the fastest of a few calls after a warm-up (the least disturbed on a shared
machine); the augmentation's two paths are timed interleaved.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.preprocess import AIR_HU, windowed_channels  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.model.model_file import LoadedModel  # noqa: E402
from core.model.runtime import COMPILE_MODES, Runtime  # noqa: E402
from core.model.unet import MandibleUNet  # noqa: E402
from core.training.augment import Augmentation  # noqa: E402
from core.training.checkpoint import Checkpoint, CheckpointWriter  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.epoch import EpochRunner  # noqa: E402
from core.training.schedule import UNFROZEN  # noqa: E402
from core.training.slices import SliceSet, model_windows  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    augment: tuple[tuple[int, int], ...]  # (px, batch)
    train: tuple[tuple[int, int], ...]  # (px, batch)
    steps: int
    epoch_slices: int
    schedule_px: int
    infer_px: int
    infer_batches: tuple[int, ...]
    infer_slices: int


GPU = Sizes(((128, 32), (512, 32)), ((128, 32), (512, 32)), 20, 4809, 128, 512, (1, 16, 64), 256)
CPU = Sizes(((128, 32), (512, 8)), ((128, 8), (512, 2)), 3, 64, 128, 512, (1, 2), 4)
CI = Sizes(((64, 4),), ((64, 2),), 1, 4, 64, 64, (1, 2), 2)


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields}), flush=True)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device: torch.device, repeats: int) -> float:
    """Seconds of the fastest of `repeats` calls after one warm-up call: on a shared machine the fastest call is
    the one least disturbed by other jobs."""
    function()
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def per_sample_augmentation(hu: np.ndarray, label: np.ndarray, windows: np.ndarray, rng: np.random.Generator):
    """The per-sample numpy/OpenCV augmentation that core.training.augment replaced (the baseline)."""
    import cv2

    size = hu.shape[0]
    matrix = cv2.getRotationMatrix2D(((size - 1) / 2.0, (size - 1) / 2.0), rng.uniform(-10, 10), rng.uniform(0.9, 1.1))
    hu = cv2.warpAffine(hu, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                        borderValue=AIR_HU)
    label = cv2.warpAffine(label, matrix, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    if rng.random() < 0.5:
        hu, label = hu[:, ::-1], label[:, ::-1]
    hu = hu * rng.uniform(0.95, 1.05) + rng.uniform(-30, 30)
    hu = hu + rng.normal(0.0, rng.uniform(0.0, 20.0), hu.shape)
    jitter = rng.uniform(-0.1, 0.1, size=(3, 2))
    windows = windows.copy()
    windows[:, 0] += jitter[:, 0] * windows[:, 1]
    windows[:, 1] *= 1.0 + jitter[:, 1]
    return np.ascontiguousarray(hu, dtype=np.float32), np.ascontiguousarray(label), windows


def synthetic_slices(count: int, size: int) -> SliceSet:
    rng = np.random.default_rng(0)
    hu = rng.integers(-1000, 1500, (count, size, size), dtype=np.int16)
    labels = (hu > 700).astype(np.uint8)
    return SliceSet(hu, labels, np.arange(count) % 4, ["a", "b", "c", "d"])


def bench_augmentation(sizes: Sizes, device: torch.device, repeats: int) -> None:
    augmentation, windows = Augmentation(), model_windows(TrainingConfig(data=[], out="").model_config())
    for size, batch in sizes.augment:
        slices = synthetic_slices(batch, size)
        rng = np.random.default_rng(0)

        def before():
            for index in range(batch):
                per_sample_augmentation(slices.hu[index, 0].astype(np.float32), slices.labels[index],
                                        windows.numpy(), rng)

        hu = torch.from_numpy(slices.hu).to(device).float()  # [B, 1, S, S]
        labels = torch.from_numpy(slices.labels).to(device)
        generator = torch.Generator(device=device).manual_seed(0)
        after = lambda: augmentation.apply(hu, labels, windows.to(device).expand(batch, 3, 2), generator)  # noqa: E731
        old, new = [], []
        for _ in range(repeats):  # interleaved, so both see the same load
            old.append(timed(before, torch.device("cpu"), 1))
            new.append(timed(after, device, 1))
        old, new = min(old), min(new)
        emit(f"augmentation_{size}px", value=round(batch / new, 1), unit="images/s", device=str(device),
             baseline="per-sample numpy/OpenCV on the CPU (before)", baseline_value=round(batch / old, 1),
             ratio=round(old / new, 2), batch=batch)


def make_runner(size: int, batch: int, runtime: Runtime) -> EpochRunner:
    config = TrainingConfig(data=[], out="", input_size=size, batch_size=batch, device=runtime.device.type,
                            precision=runtime.precision, report_every=10 ** 6)
    runner = EpochRunner(MandibleUNet(config.model_config()), runtime, config, config.schedule())
    runner.enter_stage(UNFROZEN, None)
    return runner


def bench_training(sizes: Sizes, runtime: Runtime) -> None:
    for size, batch in sizes.train:
        runner = make_runner(size, batch, runtime)
        slices = runner.place(synthetic_slices(batch * sizes.steps, size))
        hu, labels, _ = slices.batch(torch.arange(batch), runtime.device)
        x = runner.inputs(hu, None)  # the trainer's own input layout (channels_last on CUDA)

        def network_only():
            with runtime.autocast():
                loss = runner.loss_fn(runner.network(x), labels)
            runner.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            runner.optimizer.step()

        def trainer_epoch():
            for _ in runner.train_epoch(slices, 0, None):
                pass

        network = timed(network_only, runtime.device, sizes.steps)
        whole = timed(trainer_epoch, runtime.device, 2) / sizes.steps
        emit(f"training_{size}px", value=round(batch / whole, 1), unit="images/s", device=runtime.describe(),
             baseline="network-only step on a ready input", baseline_value=round(batch / network, 1),
             ratio=round(network / whole, 2), batch=batch)


def bench_schedule(sizes: Sizes, runtime: Runtime) -> None:
    """The paper's 100 epochs (at 128 px but in the CI's form), from one measured epoch after a warm-up epoch."""
    px = sizes.schedule_px
    runner = make_runner(px, 32 if runtime.device.type == "cuda" else 4, runtime)
    train = runner.place(synthetic_slices(sizes.epoch_slices, px))
    val = runner.place(synthetic_slices(max(2, sizes.epoch_slices // 10), px))
    with tempfile.TemporaryDirectory() as folder:
        writer = CheckpointWriter(Path(folder) / "m.msmodel.checkpoint")

        def epoch():
            for _ in runner.train_epoch(train, 0, None):
                pass
            runner.validate(val)
            writer.write(Checkpoint("bench", 1, runner.network.state_dict(), runner.optimizer.state_dict(), None, {}))

        seconds = timed(epoch, runtime.device, 1)
        writer.wait()
    emit(f"paper_schedule_{px}px_100_epochs", value=round(100 * seconds / 60, 1), unit="minutes (extrapolated)",
         device=runtime.describe(), epoch_seconds=round(seconds, 2), slices_per_epoch=sizes.epoch_slices,
         baseline="network-only: see training_128px", baseline_value=None)


def bench_inference(sizes: Sizes, runtime: Runtime, compile: str) -> None:
    config = TrainingConfig(data=[], out="", input_size=sizes.infer_px).model_config()
    network = MandibleUNet(config).eval()
    segmenter = Segmenter(LoadedModel(network, config), runtime.device.type, runtime.precision)
    rng = np.random.default_rng(0)
    for batch in sizes.infer_batches:
        canvas = rng.uniform(-1000, 1500, (batch, sizes.infer_px, sizes.infer_px)).astype(np.float32)
        x = windowed_channels(torch.from_numpy(canvas).to(runtime.device), config)
        if runtime.device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)

        def forward():
            with torch.inference_mode(), runtime.autocast():
                segmenter.network(x)

        repeats = max(1, sizes.infer_slices // batch)
        network_s = timed(forward, runtime.device, repeats) / batch
        whole_s = timed(lambda: segmenter.probabilities(canvas), runtime.device, repeats) / batch
        emit(f"inference_{sizes.infer_px}px_batch{batch}", value=round(1 / whole_s, 1), unit="slices/s",
             device=runtime.describe(), baseline="network-only forward", baseline_value=round(1 / network_s, 1),
             ratio=round(network_s / whole_s, 2))
        bench_compiled_inference(segmenter, canvas, runtime, compile, repeats, whole_s)


def bench_compiled_inference(eager: Segmenter, canvas: np.ndarray, runtime: Runtime, compile: str, repeats: int,
                             eager_s: float) -> None:
    """The same batch through a Segmenter whose network is compiled (one compile per batch size, not timed)."""
    figure = f"inference_{canvas.shape[-1]}px_batch{len(canvas)}_compiled"
    if compile == "off":
        emit(figure, skipped="--compile off" if runtime.device.type == "cuda" else "compiling is for CUDA here; "
             "give --compile MODE to try it on the CPU")
        return
    compiled = Segmenter(eager.model, runtime.device.type, runtime.precision, len(canvas), compile=compile)
    compiled_s = timed(lambda: compiled.probabilities(canvas), runtime.device, repeats) / len(canvas)
    emit(figure, value=round(1 / compiled_s, 1), unit="slices/s", device=runtime.describe(), mode=compile,
         compiled=compiled.forward.compiled, baseline="the same Segmenter eager",
         baseline_value=round(1 / eager_s, 1), ratio=round(eager_s / compiled_s, 2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="run on the CPU with small sizes")
    parser.add_argument("--ci", action="store_true", help="the smallest sizes (for the test suite)")
    parser.add_argument("--compile", choices=COMPILE_MODES,
                        help="compiled inference figures (default: reduce-overhead on CUDA, off on the CPU)")
    args = parser.parse_args(argv)
    gpu = torch.cuda.is_available() and not (args.cpu or args.ci)
    compile = args.compile or ("reduce-overhead" if gpu else "off")
    sizes = CI if args.ci else GPU if gpu else CPU
    runtime = Runtime.select("cuda" if gpu else "cpu", "auto")
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    bench_augmentation(sizes, runtime.device, 1 if args.ci else 10)
    bench_training(sizes, runtime)
    bench_schedule(sizes, runtime)
    bench_inference(sizes, runtime, compile)
    if gpu:
        emit("peak_gpu_memory", value=round(torch.cuda.max_memory_allocated() / 2 ** 30, 2), unit="GiB",
             device=runtime.describe())
    else:
        reason = "no CUDA GPU here" if not torch.cuda.is_available() else "--cpu/--ci asked for the CPU"
        emit("peak_gpu_memory", skipped=reason)
        emit("gpu_figures", skipped=f"{reason}: the figures above are the CPU's, at the small sizes")


if __name__ == "__main__":
    main()
