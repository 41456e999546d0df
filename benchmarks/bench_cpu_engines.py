"""The network on this CPU: torch (today's engine) against OpenVINO, and ONNX Runtime when it is installed, in one
run; and whether the masks stay the same (issue 22 item 2, docs/decisions/232).

    python benchmarks/bench_cpu_engines.py [--model M.msmodel] [--slices 16] [--rounds 3] [--openkbp-cases 2]

Speed: the network alone, batch 1 (torch's CPU default; OpenVINO also in batches of 4, its default), on real slices of the development head on the model's
canvas; the engines take turns within each round, the median per slice is kept; ratios against torch in the
same run. torch runs as the Segmenter runs it on this CPU (fp32 without native bf16, bf16 autocast with it).
Masks: Segmenter.predict_volume (the whole prediction path, refinement included) with engine torch and engine
openvino on the development head and --openkbp-cases OpenKBP validation cases: Dice of one against the other.
int8 is measured only where the CPU has VNNI (AVX512-VNNI, AVX-VNNI or AMX): without it int8 convolutions have
no fast instructions on x86, and this script says so instead.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.model.model_file import load_model  # noqa: E402
from core.model.openvino_network import openvino_network  # noqa: E402
from core.model.preprocess import hu_slices, windowed_channels  # noqa: E402

SHARED = ROOT.parent / "shared"
HEAD = SHARED / "data" / "cranium" / "dicom"
VALIDATION = SHARED / "data" / "openkbp" / "validation" / "imagesTr"


def cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def machine() -> str:
    text = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    flags = cpu_flags()
    simd = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni") if f in flags]
    return (f"{model}, {os.cpu_count()} cores ({', '.join(simd)}), torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")


def engines(model_path: Path, onnxruntime: bool) -> dict:
    """name -> callable(x) -> logits, each as the app would run it."""
    loaded = load_model(model_path)
    torch_segmenter = Segmenter(loaded, "cpu", engine="torch")
    start = time.perf_counter()
    found = {f"torch ({torch_segmenter.runtime.precision})": torch_segmenter.forward,
             "OpenVINO (fp32)": openvino_network(loaded, torch_segmenter.runtime)}
    found["OpenVINO (fp32), batch 4"] = found["OpenVINO (fp32)"]  # the Segmenter's batch with OpenVINO
    print(f"OpenVINO model ready in {time.perf_counter() - start:.1f} s (converted once per model file, then cached)")
    if onnxruntime:
        found["ONNX Runtime (fp32)"] = _onnxruntime(loaded)
    return found


def _onnxruntime(loaded):
    import io

    import onnxruntime

    buffer = io.BytesIO()
    size = loaded.config.input_size
    with torch.no_grad():
        torch.onnx.export(loaded.network.eval().to(memory_format=torch.contiguous_format),
                          torch.zeros(1, 3, size, size), buffer, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"x": np.ascontiguousarray(x.numpy())})[0])


def speed(found: dict, model_path: Path, slices: int, rounds: int) -> dict[str, float]:
    config = load_model(model_path).config
    volume = load_volume(HEAD)
    middle = volume.num_slices // 2
    canvas, _ = hu_slices(volume, list(range(middle - slices // 2, middle + slices - slices // 2)), config)
    inputs = windowed_channels(torch.from_numpy(canvas), config)
    times: dict[str, list[float]] = {name: [] for name in found}
    with torch.inference_mode():
        for forward in found.values():
            forward(inputs[:1])  # warm-up
        for round_ in range(rounds):
            order = list(found.items())
            for name, forward in order[::-1] if round_ % 2 else order:
                batch = 4 if name.endswith("batch 4") else 1
                start = time.perf_counter()
                for n in range(0, len(inputs), batch):
                    forward(inputs[n:n + batch].contiguous(memory_format=torch.channels_last))
                times[name].append(1000 * (time.perf_counter() - start) / len(inputs))
            print(f"  round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in times.items()), flush=True)
    return {name: statistics.median(values) for name, values in times.items()}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def same_masks(model_path: Path, cases: int) -> list[tuple[str, float, int]]:
    """(case, Dice of OpenVINO's masks against torch's, voxels that differ) through the whole prediction path."""
    loaded = load_model(model_path)
    paths = [("development head", HEAD)] + [(p.name.split("_0000")[0], p) for p in
                                            sorted(VALIDATION.glob("*_0000.nii.gz"))[:cases]]
    rows = []
    for name, path in paths:
        volume = load_volume(path)
        masks = {engine: Segmenter(loaded, "cpu", engine=engine).predict_volume(volume)
                 for engine in ("torch", "openvino")}
        rows.append((name, dice(masks["torch"], masks["openvino"]),
                     int((masks["torch"] != masks["openvino"]).sum())))
        print(f"  {name}: Dice {rows[-1][1]:.4f}, {rows[-1][2]} voxels differ", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHARED / "models" / "okbp128_gpu36.msmodel")
    parser.add_argument("--slices", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--openkbp-cases", type=int, default=2)
    parser.add_argument("--skip-masks", action="store_true")
    args = parser.parse_args()
    if not args.model.is_file() or not HEAD.is_dir():
        print(f"error: needs {args.model} and {HEAD} (../shared)", file=sys.stderr)
        return 2
    print(machine())
    try:
        import onnxruntime  # noqa: F401
        has_ort = True
    except ImportError:
        has_ort = False
        print("ONNX Runtime not installed: its row is left out (pip install onnxruntime onnx)")
    flags = cpu_flags()
    if not flags & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        print("int8 not measured: this CPU has no VNNI (avx512_vnni, avx_vnni or amx_int8)")
    medians = speed(engines(args.model, has_ort), args.model, args.slices, args.rounds)
    base = next(iter(medians.values()))
    print(f"\n| Engine | ms per slice (median of {args.rounds}) | vs torch |\n|---|---|---|")
    for name, ms in medians.items():
        print(f"| {name} | {ms:.0f} | x{base / ms:.2f} faster |")
    if not args.skip_masks:
        rows = same_masks(args.model, args.openkbp_cases)
        print("\n| Case | Dice, OpenVINO's masks against torch's | voxels that differ |\n|---|---|---|")
        for name, value, differ in rows:
            print(f"| {name} | {value:.4f} | {differ} |")
    print(machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
