"""Training and validation slices on the model canvas, read once, then batched on the training device.

No DataLoader worker processes (docs/decisions/023): training runs from a GUI thread or a child
process, and the slices are small enough to prepare once. They are moved to the training device
when they fit (docs/decisions/121), and each batch is augmented there as a whole (core.training.augment).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Generator, Iterator

import numpy as np
import torch

from core.errors import Cancelled, TrainingError
from core.model.preprocess import hu_slices
from core.model.config import ModelConfig
from core.ranks import Ranks
from core.training.augment import Augmentation
from core.training.data import CaseRef, load_labelled_case, select_slices

log = logging.getLogger(__name__)

# Share of the GPU's free memory the slices may take; the rest is the network's.
DEVICE_SHARE = 0.25


@dataclass
class SliceSet:
    hu: np.ndarray  # int16 [n, C, S, S] HU on the canvas: the slice, then its context slices (C = 1 without)
    labels: np.ndarray  # uint8 [n, S, S]
    case_of: np.ndarray  # index into `cases` for each slice
    cases: list[str]

    def __post_init__(self):
        if self.hu.ndim == 3:
            self.hu = self.hu[:, None]

    def __len__(self) -> int:
        return len(self.hu)

    @property
    def nbytes(self) -> int:
        return self.hu.nbytes + self.labels.nbytes


@dataclass(frozen=True)
class SliceSampling:
    near: int = 8
    far: int = 4
    max_per_case: int | None = None
    seed: int = 0


def _case_slices(ref: CaseRef, config: ModelConfig, sampling: SliceSampling):
    case = load_labelled_case(ref)
    if config.context_slices and len(case.slice_numbers) != case.volume.num_slices:
        raise TrainingError(f"case {ref.name} holds only some slices of its CT; a model that looks at "
                            "neighbouring slices (2.5-D) needs whole CT volumes")
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


def model_windows(config: ModelConfig) -> torch.Tensor:
    return torch.tensor([[c, w] for _, c, w in config.windows], dtype=torch.float32)


@dataclass
class DeviceSlices:
    """A SliceSet as torch tensors on the device that batches them (zero-copy views on the CPU)."""

    hu: torch.Tensor  # int16 [n, C, S, S]
    labels: torch.Tensor  # uint8 [n, S, S]
    case_of: torch.Tensor  # int64 [n]
    cases: list[str]

    def __len__(self) -> int:
        return len(self.hu)

    @classmethod
    def place(cls, slices: SliceSet, device: torch.device) -> "DeviceSlices":
        """On `device` when the slices fit in a quarter of its free memory; else they stay in (pinned)
        host memory and each batch is copied over."""
        on_host = (torch.from_numpy(slices.hu), torch.from_numpy(slices.labels), torch.from_numpy(slices.case_of))
        if device.type != "cuda":
            return cls(*on_host, slices.cases)
        free, _ = torch.cuda.mem_get_info(device)
        if slices.nbytes <= DEVICE_SHARE * free:
            log.info("%d slices (%.0f MB) live on %s", len(slices), slices.nbytes / 2 ** 20, device)
            return cls(*(t.to(device) for t in on_host), slices.cases)
        log.info("%d slices (%.0f MB) stay in host memory (%.0f MB free on %s)", len(slices),
                 slices.nbytes / 2 ** 20, free / 2 ** 20, device)
        return cls(*(t.pin_memory() for t in on_host), slices.cases)

    def batch(self, rows: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(hu float32 [B, C, S, S], labels uint8 [B, S, S], case index [B]) of `rows`, on `device`."""
        rows = rows.to(self.hu.device)
        move = lambda t: t.index_select(0, rows).to(device, non_blocking=True)  # noqa: E731
        return move(self.hu).float(), move(self.labels), move(self.case_of)


def epoch_generator(seed: int, epoch: int, device: torch.device, rank: int | None = None) -> torch.Generator:
    """The one source of an epoch's random draws (order and augmentation): seeded by (seed, epoch), so a
    resumed epoch is drawn exactly as the interrupted run would have drawn it; with `rank`, that process's own
    augmentation draws."""
    generator = torch.Generator(device=device)
    entropy = [seed, epoch] + ([rank] if rank is not None else [])
    generator.manual_seed(int(np.random.SeedSequence(entropy).generate_state(1)[0]))
    return generator


def training_batches(slices: DeviceSlices, config: ModelConfig, batch_size: int, seed: int, epoch: int,
                     augmentation: Augmentation | None, device: torch.device,
                     ranks: Ranks = Ranks()) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(hu [B, C, S, S], labels [B, S, S], windows [B, 3, 2]) on `device`, in an order and with
    augmentations fixed by (seed, epoch). With several processes, every process draws the same order and takes its
    own equal share of it (every world-th slice from its rank), with its own augmentation draws."""
    generator = epoch_generator(seed, epoch, device)
    order = torch.randperm(len(slices), generator=generator, device=device)
    if ranks.distributed:
        order = order[ranks.rank::ranks.world][:len(order) // ranks.world]
        generator = epoch_generator(seed, epoch, device, ranks.rank)
    if len(order) > batch_size and len(order) % batch_size == 1:
        order = order[:-1]  # BatchNorm needs more than one sample in a batch
    windows = model_windows(config).to(device)
    for start in range(0, len(order), batch_size):
        hu, labels, _ = slices.batch(order[start:start + batch_size], device)
        batch_windows = windows.expand(len(hu), 3, 2)
        if augmentation is not None:
            hu, labels, batch_windows = augmentation.apply(hu, labels, batch_windows, generator)
        yield hu, labels, batch_windows


def steps_per_epoch(count: int, batch_size: int, ranks: Ranks = Ranks()) -> int:
    """Steps of each process in an epoch over `count` slices."""
    count //= ranks.world
    usable = count - 1 if count > batch_size and count % batch_size == 1 else count
    return -(-usable // batch_size)
