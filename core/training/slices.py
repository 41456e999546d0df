"""Training and validation slices on the model canvas, held in memory, batched in-process.

No DataLoader worker processes (docs/decisions/023): training runs from a GUI thread, and the
slices are small enough to prepare once; augmentation of a batch costs little next to the network.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Generator, Iterator

import numpy as np
import torch

from core.errors import Cancelled, TrainingError
from core.inference.preprocess import hu_slices
from core.model.config import ModelConfig
from core.training.augment import Augmentation
from core.training.data import CaseRef, load_labelled_case, select_slices

log = logging.getLogger(__name__)


@dataclass
class SliceSet:
    hu: np.ndarray  # int16 [n, S, S] HU on the canvas
    labels: np.ndarray  # uint8 [n, S, S]
    case_of: np.ndarray  # index into `cases` for each slice
    cases: list[str]

    def __len__(self) -> int:
        return len(self.hu)


@dataclass(frozen=True)
class SliceSampling:
    near: int = 8
    far: int = 4
    max_per_case: int | None = None
    seed: int = 0


def _case_slices(ref: CaseRef, config: ModelConfig, sampling: SliceSampling):
    case = load_labelled_case(ref)
    rows = select_slices(case, sampling.near, sampling.far, sampling.seed)
    if sampling.max_per_case and len(rows) > sampling.max_per_case:
        rows = rows[np.linspace(0, len(rows) - 1, sampling.max_per_case).round().astype(int)]
    if not len(rows):
        log.warning("case %s has no mandible labels; it is not used", ref.name)
        return None
    hu, geometry = hu_slices(case.volume, rows, config)
    labels = np.stack([geometry.to_model(case.labels[r].astype(np.float32), fill=0.0) > 0.5 for r in rows])
    return np.clip(np.rint(hu), -32768, 32767).astype(np.int16), labels.astype(np.uint8)


def iter_prepare_slices(refs: list[CaseRef], config: ModelConfig, sampling: SliceSampling,
                        cancel: threading.Event | None = None) -> Generator[tuple[int, int, str], None, SliceSet]:
    """Read and resample every case; yields (cases read, cases, message) and returns the SliceSet."""
    hus, labels, owners, names = [], [], [], []
    for number, ref in enumerate(refs):
        if cancel is not None and cancel.is_set():
            raise Cancelled("training cancelled while reading the data")
        prepared = _case_slices(ref, config, sampling)
        if prepared is not None:
            hus.append(prepared[0])
            labels.append(prepared[1])
            owners.append(np.full(len(prepared[0]), len(names)))
            names.append(ref.name)
        yield number + 1, len(refs), f"read case {ref.name}"
    if not hus:
        raise TrainingError("none of the cases has mandible labels; label some slices first")
    return SliceSet(np.concatenate(hus), np.concatenate(labels), np.concatenate(owners), names)


def model_windows(config: ModelConfig) -> np.ndarray:
    return np.array([[c, w] for _, c, w in config.windows], dtype=np.float32)


def training_batches(slices: SliceSet, config: ModelConfig, batch_size: int, seed: int, epoch: int,
                     augmentation: Augmentation | None) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(hu [B,S,S], labels [B,S,S], windows [B,3,2]) in an order fixed by (seed, epoch), so that a
    resumed run repeats exactly what the interrupted one would have done."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(slices))
    if len(order) > batch_size and len(order) % batch_size == 1:
        order = order[:-1]  # BatchNorm needs more than one sample in a batch
    windows = model_windows(config)
    for start in range(0, len(order), batch_size):
        hu, labels, wins = [], [], []
        for index in order[start:start + batch_size]:
            sample = (slices.hu[index].astype(np.float32), slices.labels[index], windows)
            if augmentation is not None:
                sample = augmentation.apply(*sample, rng)
            hu.append(sample[0])
            labels.append(sample[1])
            wins.append(sample[2])
        yield torch.from_numpy(np.stack(hu)), torch.from_numpy(np.stack(labels)), torch.from_numpy(np.stack(wins))


def steps_per_epoch(count: int, batch_size: int) -> int:
    usable = count - 1 if count > batch_size and count % batch_size == 1 else count
    return -(-usable // batch_size)
