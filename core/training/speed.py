"""How a training step runs on its device: the optimizer's kernel and the memory layout (issue 22 item 2).

The numbers behind each default are in BENCHMARKS.md ("Training step on the CPU"), measured beside the
previous code in the same run by benchmarks/bench_train_step.py (docs/decisions/240).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class StepSpeed:
    fused_adam: bool  # one fused kernel for the whole Adam update instead of a loop over tensor lists
    channels_last: bool  # NHWC activations and weights

    @classmethod
    def for_device(cls, device: torch.device) -> "StepSpeed":
        """The measured winner for `device`'s kind."""
        return cls(fused_adam=True, channels_last=device.type == "cuda")

    def adam(self, parameters: list[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
        if self.fused_adam:
            return torch.optim.Adam(parameters, lr=lr, fused=True)
        return torch.optim.Adam(parameters, lr=lr)
