"""Device and numeric precision for training and inference.

CUDA: bf16 autocast where the GPU supports it (else fp16 with a gradient scaler), channels_last,
cudnn.benchmark. CPU: fp32 for training; bf16 autocast for inference where the CPU has native
bf16 (AVX512-BF16 or AMX), which is about 3x faster here with the same masks (BENCHMARKS.md).
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import torch

from core.errors import MandibleStudioError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_has_fast_bf16() -> bool:
    """oneDNN's own test for native bf16 instructions (AVX512-BF16 or AMX)."""
    return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None

    @classmethod
    def select(cls, device: str = "auto", precision: str = "auto", inference: bool = False) -> "Runtime":
        if precision not in PRECISIONS:
            raise MandibleStudioError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise MandibleStudioError("--device cuda: no CUDA GPU is available to PyTorch here; use --device cpu")
        if device not in ("cpu",) and not device.startswith("cuda"):
            raise MandibleStudioError(f"--device {device}: choose auto, cpu or cuda")
        torch_device = torch.device(device)
        if precision == "auto":
            if torch_device.type == "cuda":
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            else:
                precision = "bf16" if inference and cpu_has_fast_bf16() else "fp32"
        dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        if torch_device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        return cls(torch_device, dtype)

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp_dtype]

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def describe(self) -> str:
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return f"{name} ({self.precision})"
