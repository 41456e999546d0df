"""Everything a training run is told; the CLI, the app's Retrain and the benchmarks all fill one TrainingConfig.

Its field defaults are THE training defaults (the paper's schedule); everything else reads them
(`TrainingConfig.default("epochs")`) rather than repeating a number.
"""
from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields

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
    scanner_augment: bool = False  # scanner variety: grey map, cupping, noise, field of view (docs/decisions/203)
    seed: int = 0
    sampling: SliceSampling = field(default_factory=SliceSampling)
    restart: bool = False  # ignore an existing checkpoint instead of resuming it
    # Beyond the paper (issue 11; docs/decisions/122): all off by default.
    lr_schedule: str = "constant"  # "cosine" or "poly": decay over the run, on top of each stage's rate
    context_slices: int = 0  # 2.5-D input: neighbours on each side, context_mm apart
    context_mm: float = 3.0
    deep_supervision: bool = False
    flip_tta: bool = False  # the saved model averages with its mirrored prediction (validation too)
    report_every: int = 10  # steps between loss reports (each report waits for the device)

    @staticmethod
    def default(name: str):
        """The default of field `name` (the one place a training default is written)."""
        spec = next(f for f in fields(TrainingConfig) if f.name == name)
        return spec.default_factory() if spec.default is MISSING else spec.default

    def model_config(self) -> ModelConfig:
        mm = self.mm_per_pixel or default_mm_per_pixel(self.input_size)
        return ModelConfig(encoder=self.encoder, attention=self.attention, input_size=self.input_size,
                           mm_per_pixel=mm, context_slices=self.context_slices, context_mm=self.context_mm,
                           deep_supervision=self.deep_supervision, flip_tta=self.flip_tta)

    def schedule(self) -> TwoStageSchedule:
        return TwoStageSchedule(self.epochs, self.freeze_epochs, self.lr, self.lr_unfrozen, self.lr_schedule)

    def fingerprint(self, train_cases: list[str], val_cases: list[str]) -> str:
        """What must be equal for a checkpoint to be resumed (not the device, not the output)."""
        settings = asdict(self)
        for key in ("out", "device", "restart", "data", "report_every"):
            settings.pop(key)
        if not self.scanner_augment:  # off, a run is the run it was before the switch existed: it resumes
            settings.pop("scanner_augment")
        settings["model"] = self.model_config().to_dict()
        return json.dumps({"settings": settings, "train": train_cases, "val": val_cases}, sort_keys=True)
