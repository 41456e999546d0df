"""Which process this is among the processes `torchrun` started (issue 22 item 5; docs/decisions/242).

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK in each process it starts; a process started any other way is rank 0
of 1. Commands split their work by rank with `shard`: no communication is needed for a list of independent cases.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

from core.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    rank: int = 0  # this process, 0 to world - 1
    world: int = 1  # processes in all
    local_rank: int = 0  # this process on its machine (its GPU there)

    def __post_init__(self):
        if not (self.world >= 1 and 0 <= self.rank < self.world and self.local_rank >= 0):
            raise InputError(f"rank {self.rank} of {self.world} processes (local rank {self.local_rank}) is not "
                             "possible; start the processes with torchrun, which sets RANK, WORLD_SIZE and LOCAL_RANK")

    @property
    def is_main(self) -> bool:
        """The process that writes files and speaks for all."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def ranks_from_environment(environment: Mapping[str, str] | None = None) -> Ranks:
    """This process's place among those torchrun started (rank 0 of 1 outside torchrun)."""
    environment = os.environ if environment is None else environment
    try:
        return Ranks(int(environment.get("RANK", 0)), int(environment.get("WORLD_SIZE", 1)),
                     int(environment.get("LOCAL_RANK", 0)))
    except ValueError as exc:
        raise InputError(f"RANK, WORLD_SIZE or LOCAL_RANK is not a number ({exc}); start the processes with "
                         "torchrun") from exc


def process_device(ranks: Ranks, device: str) -> str:
    """The device string of this process: its own GPU (LOCAL_RANK) when several processes run on CUDA."""
    if not ranks.distributed or device not in ("auto", "cuda"):
        return device
    import torch  # only here: the rest of this module is plain Python

    return f"cuda:{ranks.local_rank}" if torch.cuda.is_available() else device


def shard(items: Sequence[T], ranks: Ranks) -> list[T]:
    """This process's share of `items`: every world-th item from its rank on. The shares of all ranks together
    hold every item exactly once, and differ in length by at most one."""
    return list(items[ranks.rank::ranks.world])
