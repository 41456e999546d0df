"""One epoch of training and one validation pass, for the stage the schedule is in."""
from __future__ import annotations

import logging
import threading
from typing import Iterator

import numpy as np
import torch

from core.errors import Cancelled, TrainingError
from core.inference.preprocess import windowed_channels
from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.training.augment import Augmentation
from core.training.config import TrainingConfig
from core.training.losses import SegmentationLoss
from core.training.metrics import SegmentationMetrics
from core.training.schedule import FROZEN, TwoStageSchedule
from core.training.slices import SliceSet, training_batches

log = logging.getLogger(__name__)

OUT_OF_MEMORY = ("out of GPU memory at batch size {batch}: lower the batch size (--batch) and run the same "
                 "command again; training resumes from the last finished epoch")


class EpochRunner:
    def __init__(self, network: MandibleUNet, runtime: Runtime, config: TrainingConfig, schedule: TwoStageSchedule):
        self.network = network.to(runtime.device)
        if runtime.device.type == "cuda":
            self.network.to(memory_format=torch.channels_last)
        self.runtime = runtime
        self.config = config
        self.model_config = network.config
        self.schedule = schedule
        self.loss_fn = SegmentationLoss(gamma=2.0, dice_weight=config.dice_weight)
        self.augmentation = Augmentation() if config.augment else None
        self.scaler = torch.amp.GradScaler(runtime.device.type, enabled=runtime.amp_dtype == torch.float16)
        self.stage = ""
        self.optimizer: torch.optim.Optimizer | None = None

    def enter_stage(self, stage: str, optimizer_state: dict | None) -> None:
        """Freeze or unfreeze the encoder and make the stage's Adam (restoring its state on resume)."""
        if stage == FROZEN:
            self.network.freeze_encoder()
        else:
            self.network.unfreeze_encoder()
        self.network.train()
        trainable = [p for p in self.network.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=self.schedule.lr(stage))
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.stage = stage
        log.info("stage %s: %d trainable tensors, lr %g", stage, len(trainable), self.schedule.lr(stage))

    def _inputs(self, hu: torch.Tensor, windows: torch.Tensor | None) -> torch.Tensor:
        device = self.runtime.device
        x = windowed_channels(hu.to(device, non_blocking=True), self.model_config,
                              None if windows is None else windows.to(device))
        return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x

    def _step(self, hu: torch.Tensor, labels: torch.Tensor, windows: torch.Tensor) -> float:
        x = self._inputs(hu, windows)
        with self.runtime.autocast():
            logits = self.network(x)
        loss = self.loss_fn(logits, labels.to(self.runtime.device))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return float(loss.detach())

    def train_epoch(self, slices: SliceSet, epoch: int, cancel: threading.Event | None) -> Iterator[float]:
        """Yields the loss of each step; checks `cancel` before every step."""
        self.network.train()
        batches = training_batches(slices, self.model_config, self.config.batch_size, self.config.seed, epoch,
                                   self.augmentation)
        for hu, labels, windows in batches:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"training cancelled during epoch {epoch + 1}; run it again to resume")
            try:
                loss = self._step(hu, labels, windows)
            except torch.cuda.OutOfMemoryError as exc:
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                raise TrainingError(OUT_OF_MEMORY.format(batch=self.config.batch_size)) from exc
            if not np.isfinite(loss):
                raise TrainingError(f"the loss became {loss} in epoch {epoch + 1}; lower the learning rate (--lr)")
            yield loss

    @torch.inference_mode()
    def validate(self, slices: SliceSet) -> dict:
        """Paper metrics on the validation slices (model canvas), pooled; Dice chooses the best epoch."""
        self.network.eval()
        metrics = SegmentationMetrics()
        batch = max(self.config.batch_size, 8)
        for start in range(0, len(slices), batch):
            hu = torch.from_numpy(slices.hu[start:start + batch].astype(np.float32))
            with self.runtime.autocast():
                prediction = self.network(self._inputs(hu, None)).argmax(dim=1).cpu()
            for offset, mask in enumerate(prediction):
                index = start + offset
                metrics.update(mask, torch.from_numpy(slices.labels[index]), slices.cases[slices.case_of[index]])
        self.network.train()
        result = metrics.aggregate()
        result.pop("dice_3d")
        return result
