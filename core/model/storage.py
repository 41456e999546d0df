"""How a model file stores its weights: fp32 as trained, fp16, or per-channel int8 (docs/decisions/110).

Only the weights of convolutions (4-D tensors of at least COMPACT_MIN_VALUES values) are stored
compactly; BatchNorm statistics, biases and small tensors stay as the network holds them.
int8 is symmetric with one fp32 scale per output channel, stored as its own tensor
`<name>` + SCALE_SUFFIX. Everything is turned back into the network's own dtype on load.
"""
from __future__ import annotations

import torch

from core.errors import ModelFileError

STORAGES = ("fp32", "fp16", "int8")
SCALE_SUFFIX = ":int8_scale"
COMPACT_MIN_VALUES = 4096
INT8_MAX = 127
FP16_MAX = 65504.0


def _is_compacted(tensor: torch.Tensor) -> bool:
    return tensor.is_floating_point() and tensor.dim() == 4 and tensor.numel() >= COMPACT_MIN_VALUES


def _int8(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = tensor.float().reshape(len(tensor), -1)
    scale = flat.abs().amax(dim=1) / INT8_MAX
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero channel stays zero
    values = torch.round(flat / scale[:, None]).clamp_(-INT8_MAX, INT8_MAX).to(torch.int8)
    return values.reshape(tensor.shape).contiguous(), scale.contiguous()


def encode(state: dict[str, torch.Tensor], storage: str) -> dict[str, torch.Tensor]:
    """The tensors to write for `state` in `storage` (fp32 = unchanged)."""
    if storage not in STORAGES:
        raise ModelFileError(f"weight storage {storage!r}: choose one of {', '.join(STORAGES)}")
    stored: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if storage == "fp32" or not _is_compacted(tensor):
            stored[name] = tensor
        elif storage == "fp16":
            if tensor.abs().max() > FP16_MAX:
                raise ModelFileError(f"weight {name} exceeds the fp16 range; store this model as int8 or fp32")
            stored[name] = tensor.half()
        else:
            stored[name], stored[name + SCALE_SUFFIX] = _int8(tensor)
    return stored


def decode(name: str, stored: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
    """The network tensor for one stored tensor (`scale` for int8 ones); ModelFileError when inconsistent."""
    if stored.dtype == torch.int8:
        if scale is None or scale.dtype != torch.float32 or tuple(scale.shape) != (len(stored),):
            raise ModelFileError(f"int8 weight {name} has no matching per-channel scale")
        return stored * scale.reshape((-1,) + (1,) * (stored.dim() - 1))  # int8 x fp32 -> fp32, one pass
    if stored.dtype in (torch.float16, torch.bfloat16):
        return stored.float()
    return stored

