"""Intensity augmentation for scanner variety (issue 19, docs/decisions/203): what a cone-beam scanner does to a
CT that calibration (core.calibration) leaves behind, drawn per sample of a batch on the training device.

  * a monotone grey map: attenuation a = (HU + 1000) / 1000 (air 0, water 1) becomes a^gamma (air and water
    stay where the calibration anchors them, bone moves: gamma 0.8 puts 1200 HU bone at 880 HU, 1.25 at 1680),
    then a small gain and offset (what a two-point calibration misses);
  * cupping: attenuation underestimated towards the middle, times (1 - c (1 - (r/R)^2));
  * noise: Gaussian, sigma drawn up to `noise_hu`;
  * a circular field of view around the mandible (with probability `field_chance`): outside it the scan
    holds nothing, so the image is air and the label background there.

Off by default (TrainingConfig.scanner_augment, `main.py train --scanner-augment`): then nothing here runs and
training is exactly what it was.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.calibration import AIR_HU

WATER_TO_AIR_HU = 1000.0


@dataclass(frozen=True)
class ScannerShift:
    gamma: float = 0.25  # gamma drawn from [1 / (1 + gamma), 1 + gamma]
    gain: float = 0.1  # attenuation times [1 - gain, 1 + gain]
    offset_hu: float = 50.0
    cupping: float = 0.2  # c drawn from [0, cupping]
    noise_hu: float = 60.0
    field_chance: float = 0.5
    field_mm: tuple[float, float] = (140.0, 200.0)  # diameter of a dental CBCT's field of view
    field_shift_mm: float = 15.0  # its centre from the mandible's
    mm_per_pixel: float = 4.0  # of the network's canvas

    def apply(self, hu: torch.Tensor, labels: torch.Tensor,
              generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(hu [B, C, S, S], labels [B, S, S]) as a cone-beam scanner might have shown them (new tensors)."""
        batch, device = hu.shape[0], hu.device

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(batch, generator=generator, device=device).view(-1, 1, 1, 1)

        gamma = torch.exp(uniform(-1.0, 1.0) * torch.log1p(torch.tensor(self.gamma, device=device)))
        gain, offset = uniform(1.0 - self.gain, 1.0 + self.gain), uniform(-self.offset_hu, self.offset_hu)
        cupping, sigma = uniform(0.0, self.cupping), uniform(0.0, self.noise_hu)
        shift = (torch.rand((batch, 2), generator=generator, device=device) * 2.0 - 1.0) * self.field_shift_mm
        centre = _mandible_centre(labels) + shift / self.mm_per_pixel
        radius = uniform(*self.field_mm).view(-1) / (2.0 * self.mm_per_pixel)
        cropped = torch.rand(batch, generator=generator, device=device) < self.field_chance
        noise = torch.randn(hu.shape, generator=generator, device=device, dtype=hu.dtype)
        distance = _distance(hu.shape[-2:], centre, device)  # [B, S, S] pixels from the field's centre
        profile = (1.0 - (distance / radius.view(-1, 1, 1)).clamp(max=1.0) ** 2).unsqueeze(1)  # [B, 1, S, S]
        attenuation = ((hu + WATER_TO_AIR_HU).clamp_(min=0.0) / WATER_TO_AIR_HU).pow_(gamma)
        attenuation.mul_(1.0 - cupping * profile)
        hu = attenuation.mul_(WATER_TO_AIR_HU * gain).add_(offset - WATER_TO_AIR_HU).add_(noise.mul_(sigma))
        outside = (distance > radius.view(-1, 1, 1)) & cropped.view(-1, 1, 1)
        hu.masked_fill_(outside.unsqueeze(1), AIR_HU)
        return hu, labels.masked_fill(outside, 0)


def _mandible_centre(labels: torch.Tensor) -> torch.Tensor:
    """[B, 2] (row, col) of each label's centroid; the canvas centre where a sample has no mandible."""
    size = labels.shape[-1]
    weights = labels.to(torch.float32)
    total = weights.sum(dim=(1, 2))
    index = torch.arange(size, device=labels.device, dtype=torch.float32)
    rows = (weights.sum(dim=2) * index).sum(dim=1)
    cols = (weights.sum(dim=1) * index).sum(dim=1)
    middle = torch.full_like(total, (size - 1) / 2.0)
    found = total > 0
    return torch.stack([torch.where(found, rows / total.clamp(min=1.0), middle),
                        torch.where(found, cols / total.clamp(min=1.0), middle)], dim=1)


def _distance(shape, centre: torch.Tensor, device) -> torch.Tensor:
    rows = torch.arange(shape[0], device=device, dtype=torch.float32).view(1, -1, 1)
    cols = torch.arange(shape[1], device=device, dtype=torch.float32).view(1, 1, -1)
    return torch.hypot(rows - centre[:, 0].view(-1, 1, 1), cols - centre[:, 1].view(-1, 1, 1))
