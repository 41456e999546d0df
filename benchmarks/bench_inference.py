"""Inference speed per 512x512 slice on this machine: fp32 eager (baseline) against faster paths.

    .venv/bin/python benchmarks/bench_inference.py [--model M.msmodel] [--slices 8] [--onnx]
    .venv/bin/python benchmarks/bench_inference.py --prefetch [--model M.msmodel] [--rounds 3]

--onnx needs the bench extra: .venv/bin/pip install -e '.[bench]'

Every path runs in this one process on the same real CT slices (OpenKBP validation case
okbp_pt_224, mandible slices, resampled to the 512-pixel canvas at 1 mm). Reports ms per
slice, the ratio to fp32 eager, Dice of each path's masks against fp32's, FLOPs per slice,
and the peak RAM of a clean bf16 segmentation of the whole 128-slice volume (a subprocess).
Without --model the network has random weights: timings hold, but Dice agreement then says
little; give a trained model for that.

--prefetch: the whole prediction path (Segmenter.predict: canvas, network, post-processing) over every slice of
the same case, slices/s with the canvas prepared in line (prefetch 0, before) and in a worker thread one batch
ahead (prefetch 1, now), the two timed alternately for --rounds rounds, the fastest round of each kept; the
masks of the two are compared. Default model: the bundled starter (what the app and `predict` run).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.preprocess import hu_slices, windowed_channels  # noqa: E402
from core.io.nifti import load_nifti_labels, load_nifti_volume  # noqa: E402
from core.model.config import ModelConfig  # noqa: E402
from core.model.model_file import load_model  # noqa: E402
from core.model.unet import MandibleUNet  # noqa: E402
from core.training.metrics import confusion, dice  # noqa: E402

CASE = ROOT.parent / "shared" / "data" / "openkbp" / "validation"
NAME = "okbp_pt_224"


def network_and_config(model: str | None):
    if model:
        loaded = load_model(model)
        return loaded.network.eval(), loaded.config
    torch.manual_seed(0)
    network = MandibleUNet(ModelConfig(input_size=512, mm_per_pixel=1.0)).eval()
    return network, network.config


def inputs(config: ModelConfig, count: int) -> tuple[torch.Tensor, object]:
    volume = load_nifti_volume(CASE / "imagesTr" / f"{NAME}_0000.nii.gz")
    labels = load_nifti_labels(CASE / "labelsTr" / f"{NAME}.nii.gz", volume)
    rows = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
    rows = rows[np.linspace(0, len(rows) - 1, count).round().astype(int)]
    canvas, _ = hu_slices(volume, rows, config)
    return windowed_channels(torch.from_numpy(canvas), config), volume


def run_path(network, x: torch.Tensor, channels_last: bool, dtype, repeats: int) -> tuple[float, torch.Tensor]:
    """Median ms per slice (batch of one) and the masks of every slice."""
    net = network.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    times, masks = [], []
    with torch.inference_mode():
        for index in range(-2, len(x)):  # two warm-up runs
            sample = x[max(index, 0):max(index, 0) + 1]
            if channels_last:
                sample = sample.contiguous(memory_format=torch.channels_last)
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
                logits = net(sample)
            times.append(time.perf_counter() - start)
            if index >= 0:
                masks.append(logits.float().argmax(1)[0])
    return 1000 * statistics.median(times[2:]), torch.stack(masks)


def run_onnx(network, x: torch.Tensor, tmp: Path) -> tuple[float, torch.Tensor]:
    import onnxruntime

    path = tmp / "bench.onnx"
    torch.onnx.export(network.to(memory_format=torch.contiguous_format), x[:1], str(path), dynamo=False,
                      input_names=["x"], output_names=["logits"], opset_version=17)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    times, masks = [], []
    for index in range(-2, len(x)):
        sample = x[max(index, 0):max(index, 0) + 1].numpy()
        start = time.perf_counter()
        logits = session.run(None, {"x": sample})[0]
        times.append(time.perf_counter() - start)
        if index >= 0:
            masks.append(torch.from_numpy(logits).argmax(1)[0])
    return 1000 * statistics.median(times[2:]), torch.stack(masks)


def flops_per_slice(network, x: torch.Tensor) -> float:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        network(x[:1].contiguous())
    return counter.get_total_flops()


def peak_ram_of_volume_run(model: str | None) -> float:
    code = ("import sys,resource; sys.path.insert(0, %r);" % str(ROOT)
            + "from benchmarks.bench_inference import volume_run; volume_run(%r)" % model)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_rss_mb"]


def _reset_peak_rss() -> None:
    """Linux copies the parent's peak RSS into a forked child; clear_refs=5 resets it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def volume_run(model: str | None) -> None:
    """Segment the whole 128-slice volume the way predict does; print peak RSS (MB)."""
    from core.inference.segmenter import Segmenter
    from core.model.model_file import LoadedModel

    _reset_peak_rss()
    network, config = network_and_config(model)
    volume = load_nifti_volume(CASE / "imagesTr" / f"{NAME}_0000.nii.gz")
    start = time.perf_counter()
    Segmenter(LoadedModel(network, config), "cpu", "auto").predict_volume(volume)
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_rss_mb": round(_peak_rss_mb()), "volume_seconds": round(seconds, 1)}))


def prefetch_run(model: str | None, rounds: int, batch: int | None) -> None:
    """Slices/s of Segmenter.predict over the whole case with prefetch off and on, alternately."""
    from core.inference.segmenter import Segmenter
    from core.model.model_file import starter_model

    loaded = load_model(model or starter_model())
    volume = load_nifti_volume(CASE / "imagesTr" / f"{NAME}_0000.nii.gz")
    best = {0: float("inf"), 1: float("inf")}
    masks = {}
    for _ in range(rounds):
        for depth in (0, 1):
            segmenter = Segmenter(loaded, "cpu", "auto", batch, prefetch=depth)
            start = time.perf_counter()
            masks[depth] = segmenter.predict_volume(volume)
            seconds = time.perf_counter() - start
            best[depth] = min(best[depth], seconds)
            print(f"  round, prefetch {depth}: {seconds:.2f} s", flush=True)
    slices = volume.num_slices
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {slices} slices of {NAME}, "
          f"model {model or starter_model().name}, {loaded.config.input_size} px, batch {segmenter.batch_size}, "
          f"{segmenter.runtime.describe()}, fastest of {rounds} alternating rounds")
    for depth, name in ((0, "prefetch off (before)"), (1, "prefetch on (now)")):
        print(f"{name:24s} {slices / best[depth]:7.1f} slices/s  {best[depth]:6.2f} s/case  "
              f"x{best[0] / best[depth]:4.2f} vs off")
    print(f"masks identical: {np.array_equal(masks[0], masks[1])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime (export takes a while)")
    parser.add_argument("--prefetch", action="store_true", help="whole prediction path, prefetch off against on")
    parser.add_argument("--rounds", type=int, default=3, help="--prefetch: alternating rounds")
    parser.add_argument("--batch", type=int, help="--prefetch: slices per batch (default: the CPU default, 1)")
    args = parser.parse_args()
    if args.prefetch:
        prefetch_run(args.model, args.rounds, args.batch)
        return
    network, config = network_and_config(args.model)
    x, _ = inputs(config, args.slices)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, input {tuple(x.shape[1:])}, "
          f"{args.slices} slices of {NAME}, model {'random' if not args.model else args.model}")
    paths = {"fp32 eager": (False, None), "fp32 channels_last": (True, None),
             "bf16 autocast": (False, torch.bfloat16), "bf16 autocast channels_last": (True, torch.bfloat16)}
    results = {name: run_path(network, x, cl, dtype, args.slices) for name, (cl, dtype) in paths.items()}
    if args.onnx:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            results["onnxruntime fp32"] = run_onnx(network, x, Path(tmp))
    base_ms, base_masks = results["fp32 eager"]
    for name, (ms, masks) in results.items():
        agreement = dice(confusion(masks, base_masks))
        print(f"{name:30s} {ms:8.1f} ms/slice  x{base_ms / ms:4.2f} vs fp32  Dice vs fp32 {agreement:.4f}")
    print(f"FLOPs per slice: {flops_per_slice(network, x) / 1e9:.1f} GFLOP")
    print(f"peak RAM, bf16 segmentation of the whole 128-slice volume: {peak_ram_of_volume_run(args.model)} MB")


if __name__ == "__main__":
    main()
