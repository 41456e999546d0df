"""Checkpoint after every epoch: model, optimizer, schedule position, best epoch, history.

Written atomically with torch.save and read with weights_only=True (tensors, numbers and
strings only). The random state needs no saving: each epoch's shuffling and augmentation is
seeded from (seed, epoch), so a resumed epoch is drawn exactly as it would have been.

CheckpointWriter copies the tensors to the host and writes them in a background thread, so the next
epoch does not wait for the disk (docs/decisions/121); a small `<checkpoint>.json` beside it says how
many epochs the checkpoint on disk holds, for a GUI that must not load the checkpoint to show a number.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import TrainingError
from core.io.atomic import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "mandible-studio-checkpoint-1"


def checkpoint_path(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".checkpoint")


def finished_epochs(model_path: str | Path) -> int:
    """Epochs held by the checkpoint of `model_path` on disk (0 when there is none), read from its small
    sidecar file rather than from the checkpoint itself."""
    try:
        sidecar = checkpoint_path(model_path).with_suffix(".checkpoint.json")
        return int(json.loads(sidecar.read_text(encoding="utf-8"))["next_epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def to_host(value):
    """A copy of `value` (tensors in nested dicts and lists) in host memory that later steps cannot change."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: to_host(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_host(item) for item in value)
    return value


@dataclass
class Checkpoint:
    fingerprint: str  # settings and data that must match for a resume
    next_epoch: int
    model: dict
    optimizer: dict
    best_model: dict | None
    state: dict = field(default_factory=dict)  # JSON-able: best epoch, metrics, history, init record

    def save(self, path: Path) -> None:
        payload = {"format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint, "next_epoch": self.next_epoch,
                   "model": self.model, "optimizer": self.optimizer, "state": json.dumps(self.state)}
        if self.best_model is not None:
            payload["best_model"] = self.best_model
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if payload.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a Mandible Studio checkpoint")
            return cls(payload["fingerprint"], int(payload["next_epoch"]), payload["model"], payload["optimizer"],
                       payload.get("best_model"), json.loads(payload["state"]))
        except Exception as exc:  # unpickling and key errors alike mean: not usable
            raise TrainingError(f"the checkpoint {path} cannot be used ({exc}); delete it to start over") from exc


class CheckpointWriter:
    """Writes checkpoints in a background thread, one at a time, each atomically.

    `write` waits for the previous write, copies the live tensors to the host (the only part the training
    loop waits for) and starts the next; `wait` blocks until the last one is on disk and re-raises its error.
    """

    def __init__(self, path: Path, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled  # only one of several training processes writes
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, checkpoint: Checkpoint) -> None:
        if not self.enabled:
            return
        self.wait()
        snapshot = Checkpoint(checkpoint.fingerprint, checkpoint.next_epoch, to_host(checkpoint.model),
                              to_host(checkpoint.optimizer), checkpoint.best_model,
                              json.loads(json.dumps(checkpoint.state)))
        self._thread = threading.Thread(target=self._save, args=(snapshot,), name="checkpoint-writer", daemon=True)
        self._thread.start()

    def _save(self, checkpoint: Checkpoint) -> None:
        try:
            checkpoint.save(self.path)
            atomic_write_text(self.path.with_suffix(".checkpoint.json"),
                              json.dumps({"next_epoch": checkpoint.next_epoch}))
        except BaseException as exc:  # re-raised in the training thread by wait()
            self._error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise TrainingError(f"the checkpoint {self.path} could not be written ({error}); "
                                "free some disk space and run again to resume") from error

    def discard(self) -> None:
        """After the model file is written: wait, then remove the checkpoint and its sidecar."""
        self.wait()
        if not self.enabled:
            return
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".checkpoint.json").unlink(missing_ok=True)
