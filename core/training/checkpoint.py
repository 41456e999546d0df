"""Checkpoint after every epoch: model, optimizer, schedule position, best epoch, history.

Written atomically with torch.save and read with weights_only=True (tensors, numbers and
strings only). The random state needs no saving: each epoch's shuffling and augmentation is
seeded from (seed, epoch), so a resumed epoch is drawn exactly as it would have been.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import TrainingError
from core.io.atomic import atomic_path

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "mandible-studio-checkpoint-1"


def checkpoint_path(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".checkpoint")


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
