"""One epoch of training and one validation pass, for the stage the schedule is in.

Nothing here waits for the device between steps (docs/decisions/121): losses are summed on the device
and read back only every `report_every` steps, and validation counts pixels on the device, per case,
and reads them back once.
"""
from __future__ import annotations

import logging
import math
import threading
from typing import Iterator

import torch

from core.errors import Cancelled, TrainingError
from core.model.preprocess import windowed_channels
from core.model.tta import mandible_probability
from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.ranks import Ranks
from core.training.augment import Augmentation
from core.training.scanner_shift import ScannerShift
from core.training.config import TrainingConfig
from core.training.distributed import summed, training_forward
from core.training.losses import SegmentationLoss
from core.training.metrics import Confusion, SegmentationMetrics
from core.training.schedule import FROZEN, TwoStageSchedule
from core.training.speed import StepSpeed
from core.training.slices import DeviceSlices, SliceSet, steps_per_epoch, training_batches

log = logging.getLogger(__name__)

OUT_OF_MEMORY = ("out of GPU memory at batch size {batch}: lower the batch size (--batch) and run the same "
                 "command again; training resumes from the last finished epoch")
# Weights of the auxiliary losses with deep supervision, finest first (the main output weighs 1).
AUX_WEIGHTS = (0.5, 0.25, 0.125)


class EpochRunner:
    def __init__(self, network: MandibleUNet, runtime: Runtime, config: TrainingConfig, schedule: TwoStageSchedule,
                 speed: StepSpeed | None = None, ranks: Ranks = Ranks()):
        self.speed = speed or StepSpeed.for_device(runtime.device)
        self.ranks = ranks
        self.network = network.to(runtime.device)
        if self.speed.channels_last:
            self.network.to(memory_format=torch.channels_last)
        self.runtime = runtime
        self.config = config
        self.model_config = network.config
        self.schedule = schedule
        self.loss_fn = SegmentationLoss(gamma=2.0, dice_weight=config.dice_weight)
        scanner = ScannerShift(mm_per_pixel=self.model_config.mm_per_pixel) if config.scanner_augment else None
        self.augmentation = Augmentation(scanner=scanner) if config.augment else None
        self.scaler = torch.amp.GradScaler(runtime.device.type, enabled=runtime.amp_dtype == torch.float16)
        self.stage = ""
        self.optimizer: torch.optim.Optimizer | None = None
        self.forward = network.forward_with_aux  # (logits, auxiliary logits); across processes in enter_stage

    def enter_stage(self, stage: str, optimizer_state: dict | None) -> None:
        """Freeze or unfreeze the encoder and make the stage's Adam (restoring its state on resume)."""
        if stage == FROZEN:
            self.network.freeze_encoder()
        else:
            self.network.unfreeze_encoder()
        self.network.train()
        self.forward = training_forward(self.network, self.ranks)
        trainable = [p for p in self.network.parameters() if p.requires_grad]
        self.optimizer = self.speed.adam(trainable, self.schedule.lr(stage))
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.stage = stage
        log.info("stage %s: %d trainable tensors, lr %g", stage, len(trainable), self.schedule.lr(stage))

    def place(self, slices: SliceSet) -> DeviceSlices:
        return DeviceSlices.place(slices, self.runtime.device)

    def inputs(self, hu: torch.Tensor, windows: torch.Tensor | None) -> torch.Tensor:
        x = windowed_channels(hu, self.model_config, windows)
        return x.contiguous(memory_format=torch.channels_last) if self.speed.channels_last else x

    def _loss(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with self.runtime.autocast():
            logits, aux = self.forward(x)
        loss = self.loss_fn(logits, labels)
        if aux:
            weights = AUX_WEIGHTS[:len(aux)]
            loss = (loss + sum(w * self.loss_fn(a, labels) for w, a in zip(weights, aux))) / (1.0 + sum(weights))
        return loss

    def train_step(self, hu: torch.Tensor, labels: torch.Tensor, windows: torch.Tensor, lr: float) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self._loss(self.inputs(hu, windows), labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()

    def train_epoch(self, slices: DeviceSlices, epoch: int,
                    cancel: threading.Event | None) -> Iterator[tuple[int, float | None]]:
        """Yields (step, loss) for every step, 1-based; the loss (the mean since the last report) only on the
        first step, every `report_every` steps and the last, else None. Checks `cancel` before every step."""
        slices = self.place(slices) if isinstance(slices, SliceSet) else slices
        self.network.train()
        steps = steps_per_epoch(len(slices), self.config.batch_size, self.ranks)
        batches = training_batches(slices, self.model_config, self.config.batch_size, self.config.seed, epoch,
                                   self.augmentation, self.runtime.device, self.ranks)
        total, count = torch.zeros((), device=self.runtime.device), 0
        for step, (hu, labels, windows) in enumerate(batches, start=1):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"training cancelled during epoch {epoch + 1}; run it again to resume")
            try:
                total += self.train_step(hu, labels, windows, self.schedule.lr_at(epoch, step - 1, steps))
            except torch.cuda.OutOfMemoryError as exc:
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                raise TrainingError(OUT_OF_MEMORY.format(batch=self.config.batch_size)) from exc
            count += 1
            if step == 1 or step % max(1, self.config.report_every) == 0 or step == steps:
                loss = self._mean_loss(total, count)  # the one wait for the device (and the other processes)
                if not math.isfinite(loss):
                    raise TrainingError(f"the loss became {loss} in epoch {epoch + 1}; lower the learning rate (--lr)")
                total, count = torch.zeros((), device=self.runtime.device), 0
                yield step, loss
            else:
                yield step, None

    def _mean_loss(self, total: torch.Tensor, count: int) -> float:
        if not self.ranks.distributed:
            return float(total) / count
        pair = summed(torch.stack([total.float(), torch.tensor(float(count), device=total.device)]), self.ranks)
        return float(pair[0] / pair[1])

    @torch.inference_mode()
    def validate(self, slices: DeviceSlices) -> dict:
        """Paper metrics on the validation slices (model canvas), pooled; Dice chooses the best epoch. With several
        processes each measures its share of the slices and the counts are summed over all."""
        slices = self.place(slices) if isinstance(slices, SliceSet) else slices
        self.network.eval()
        device = self.runtime.device
        counts = torch.zeros(len(slices.cases), 3, dtype=torch.int64, device=device)  # tp, fp, fn per case
        per_case = torch.zeros(len(slices.cases), dtype=torch.int64, device=device)
        batch = max(self.config.batch_size, 8)
        mine = torch.arange(self.ranks.rank, len(slices), self.ranks.world)
        for start in range(0, len(mine), batch):
            rows = mine[start:start + batch]
            hu, labels, case = slices.batch(rows, device)
            predicted = mandible_probability(self.network, self.inputs(hu, None), self.model_config,
                                             self.runtime) > 0.5
            truth = labels.bool()
            found = torch.stack([(predicted & truth).sum((1, 2)), (predicted & ~truth).sum((1, 2)),
                                 (~predicted & truth).sum((1, 2))], dim=1)
            counts.index_add_(0, case, found)
            per_case.index_add_(0, case, torch.ones_like(case))
        self.network.train()
        counts, per_case = summed(counts, self.ranks), summed(per_case, self.ranks)
        return _aggregate(counts.cpu(), per_case.cpu(), slices.cases, slices.hu.shape[-1] ** 2)


def _aggregate(counts: torch.Tensor, per_case: torch.Tensor, cases: list[str], pixels: int) -> dict:
    metrics = SegmentationMetrics()
    for index, name in enumerate(cases):
        slices = int(per_case[index])
        if slices:
            tp, fp, fn = (int(v) for v in counts[index])
            metrics.add(Confusion(tp, fp, fn, slices * pixels - tp - fp - fn), name, slices)
    result = metrics.aggregate()
    result.pop("dice_3d")
    return result
