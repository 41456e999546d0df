"""Everything a training run is told; the CLI and the GUI both fill one TrainingConfig."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from core.model.config import ModelConfig, default_mm_per_pixel
from core.training.schedule import TwoStageSchedule
from core.training.slices import SliceSampling


@dataclass
class TrainingConfig:
    data: list[str]
    out: str
    epochs: int = 100
    freeze_epochs: int = 25
    batch_size: int = 4
    input_size: int = 512
    mm_per_pixel: float | None = None  # None: 512 mm field of view / input_size
    lr: float = 1e-4
    lr_unfrozen: float = 1e-5
    device: str = "auto"
    precision: str = "auto"
    init: str = "imagenet"
    val_fraction: float = 0.2
    encoder: str = "resnet50"
    attention: bool = True
    dice_weight: float = 0.0
    augment: bool = True
    seed: int = 0
    sampling: SliceSampling = field(default_factory=SliceSampling)
    restart: bool = False  # ignore an existing checkpoint instead of resuming it

    def model_config(self) -> ModelConfig:
        mm = self.mm_per_pixel or default_mm_per_pixel(self.input_size)
        return ModelConfig(encoder=self.encoder, attention=self.attention, input_size=self.input_size,
                           mm_per_pixel=mm)

    def schedule(self) -> TwoStageSchedule:
        return TwoStageSchedule(self.epochs, self.freeze_epochs, self.lr, self.lr_unfrozen)

    def fingerprint(self, train_cases: list[str], val_cases: list[str]) -> str:
        """What must be equal for a checkpoint to be resumed (not the device, not the output)."""
        settings = asdict(self)
        for key in ("out", "device", "restart", "data"):
            settings.pop(key)
        settings["model"] = self.model_config().to_dict()
        return json.dumps({"settings": settings, "train": train_cases, "val": val_cases}, sort_keys=True)
