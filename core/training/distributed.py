"""Training in several processes with PyTorch's own engine: torchrun starts them, DistributedDataParallel keeps
their networks equal (docs/decisions/242).

NCCL joins processes on CUDA GPUs (one GPU each, LOCAL_RANK), gloo on CPUs. Every process prepares the same slices
and draws the same order each epoch; each trains on its own share of it (core.training.slices.training_batches) and
validates its share of the held-out slices, whose counts are summed over all. Only rank 0 reads the checkpoint (and
hands it to the others) and writes checkpoints and the model file. With one process (no torchrun) none of this
runs, and training is exactly what it was.
"""
from __future__ import annotations

import contextlib
import datetime
import logging
from typing import Iterator

import torch
from torch import distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from core.errors import TrainingError
from core.ranks import Ranks

log = logging.getLogger(__name__)

# How long a process waits for the others (a collective, the group's start) before it gives up.
GROUP_TIMEOUT = datetime.timedelta(minutes=30)


@contextlib.contextmanager
def process_group(ranks: Ranks, device: str) -> Iterator[None]:
    """Join the processes torchrun started (NCCL on CUDA, gloo on CPUs) for the block; nothing with one process."""
    if not ranks.distributed:
        yield
        return
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(torch.device(device))
    dist.init_process_group(backend, timeout=GROUP_TIMEOUT)
    log.info("process %d of %d joined (%s)", ranks.rank + 1, ranks.world, backend)
    try:
        yield
        dist.barrier()  # nobody leaves while rank 0 still writes the model
    finally:
        dist.destroy_process_group()


def from_main(value, ranks: Ranks):
    """Rank 0's `value` in every process (any picklable object: a checkpoint, an error to raise everywhere)."""
    if not ranks.distributed:
        return value
    box = [value if ranks.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def summed(tensor: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """`tensor` summed over every process (in place; as it is with one process)."""
    if ranks.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


class _WithAux(nn.Module):
    """The network's forward_with_aux as a forward, so that DistributedDataParallel sees every training output."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor):
        return self.network.forward_with_aux(x)


def training_forward(network: nn.Module, ranks: Ranks):
    """What a training step calls for (logits, auxiliary logits): the network itself with one process; with several,
    DistributedDataParallel over the parameters that learn in this stage (made again when the stage changes, so a
    frozen encoder is no parameter it waits for)."""
    if not ranks.distributed:
        return network.forward_with_aux
    if not any(p.requires_grad for p in network.parameters()):
        raise TrainingError("nothing in the network learns in this stage")
    device = next(network.parameters()).device
    return DistributedDataParallel(_WithAux(network), device_ids=[device] if device.type == "cuda" else None)
