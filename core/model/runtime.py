"""Device and numeric precision for training and inference.

CUDA: bf16 autocast where the GPU supports it (else fp16 with a gradient scaler), channels_last,
cudnn.benchmark. CPU: fp32 for training; bf16 autocast for inference where the CPU has native
bf16 (AVX512-BF16 or AMX), which is about 3x faster here with the same masks (BENCHMARKS.md).
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Callable

import torch

from core.errors import MandibleStudioError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# torch.compile modes for inference (docs/decisions/126); "reduce-overhead" replays CUDA graphs.
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")


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


class CompiledNetwork:
    """network(x) through torch.compile (`mode` one of COMPILE_MODES but "off"), or eagerly with the reason logged
    when compiling fails: torch.compile itself rarely fails, the first call (where it really compiles) may, for
    want of a C++ compiler or Triton. Once a call has succeeded, errors are the network's own and propagate."""

    def __init__(self, network: torch.nn.Module, mode: str):
        if mode not in COMPILE_MODES[1:]:
            raise MandibleStudioError(f"compile mode {mode!r}: choose one of {', '.join(COMPILE_MODES)}")
        self.network = network
        self.mode = mode
        self._proven = False
        try:
            self._forward: Callable = torch.compile(network, mode=None if mode == "default" else mode, dynamic=False)
        except Exception as error:  # noqa: BLE001 - any failure means eager, with the reason logged
            self._fall_back(error)

    @property
    def compiled(self) -> bool:
        return self._forward is not self.network

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self._proven or not self.compiled:
            return self._run(x)
        try:
            result = self._run(x)
        except Exception as error:  # noqa: BLE001
            self._fall_back(error)
            return self.network(x)
        self._proven = True
        return result

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if not self.compiled or self.mode != "reduce-overhead":
            return self._forward(x)
        # A CUDA graph's replay overwrites its last outputs: each call is a new step, its output a copy.
        torch.compiler.cudagraph_mark_step_begin()
        return self._forward(x).clone()

    def _fall_back(self, error: Exception) -> None:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.warning("torch.compile (mode %s) failed, running the network eagerly: %s: %s",
                    self.mode, type(error).__name__, reason)
        self._forward = self.network
