"""CT-aware augmentation of whole training batches with torch, on the training device (docs/decisions/120).

Geometry: a small rotation and scale about the centre (affine_grid + grid_sample: HU bilinear, the
mask nearest neighbour) and a left-right flip. Intensity: a small HU gain and offset, Gaussian noise,
and jitter of each window's centre and width (applied later, when the windows are computed); with `scanner`, the
intensity shifts of cone-beam scanners (core/training/scanner_shift.py, off by default).
Every draw comes from one torch.Generator, so a (seed, epoch) generator repeats an epoch exactly.
The same code runs on the CPU and on a GPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from core.model.preprocess import AIR_HU
from core.training.scanner_shift import ScannerShift


@dataclass(frozen=True)
class AugmentDraw:
    """The random parameters of one batch (each [B]; windows_jitter [B, 3, 2])."""

    angle_deg: torch.Tensor
    zoom: torch.Tensor
    flip: torch.Tensor  # bool
    gain: torch.Tensor
    offset_hu: torch.Tensor
    noise_sigma: torch.Tensor
    window_jitter: torch.Tensor


@dataclass(frozen=True)
class Augmentation:
    rotation_deg: float = 10.0
    scale: float = 0.1  # zoom factor drawn from [1 - scale, 1 + scale]
    flip: bool = True
    gain: float = 0.05  # HU multiplied by [1 - gain, 1 + gain]
    offset_hu: float = 30.0
    noise_hu: float = 20.0  # noise sigma drawn from [0, noise_hu]
    window_jitter: float = 0.1  # window centre moved and width scaled by up to this fraction of the width
    scanner: ScannerShift | None = None  # scanner variety (--scanner-augment; off: exactly the augmentation above)

    def draw(self, batch: int, generator: torch.Generator) -> AugmentDraw:
        device = generator.device

        def uniform(half: float, centre: float = 0.0, shape=(batch,)) -> torch.Tensor:
            return centre + (torch.rand(shape, generator=generator, device=device) * 2.0 - 1.0) * half

        flips = torch.rand(batch, generator=generator, device=device) < 0.5
        return AugmentDraw(uniform(self.rotation_deg), uniform(self.scale, 1.0), flips & self.flip,
                           uniform(self.gain, 1.0), uniform(self.offset_hu),
                           torch.rand(batch, generator=generator, device=device) * self.noise_hu,
                           uniform(self.window_jitter, shape=(batch, 3, 2)))

    def apply(self, hu: torch.Tensor, labels: torch.Tensor, windows: torch.Tensor,
              generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Augmented (hu [B, C, S, S] float32, labels [B, S, S] uint8, windows [B, 3, 2] center/width).

        The C channels (a slice and its neighbours) share one geometry; tensors stay on their device.
        """
        draw = self.draw(hu.shape[0], generator)
        hu, labels = warp(hu, labels, draw)
        per_sample = (hu.shape[0], 1, 1, 1)
        noise = torch.randn(hu.shape, generator=generator, device=hu.device, dtype=hu.dtype)
        noise.mul_(draw.noise_sigma.view(per_sample)).add_(draw.offset_hu.view(per_sample))
        hu.mul_(draw.gain.view(per_sample)).add_(noise)  # hu is warp's own new tensor
        if self.scanner is not None:
            hu, labels = self.scanner.apply(hu, labels, generator)
        jitter = draw.window_jitter
        windows = torch.stack([windows[..., 0] + jitter[..., 0] * windows[..., 1],
                               windows[..., 1] * (1.0 + jitter[..., 1])], dim=-1)
        return hu, labels, windows


def affine_theta(angle_deg: torch.Tensor, zoom: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """[B, 2, 3] output-to-input maps for affine_grid: the inverse of cv2.getRotationMatrix2D(centre, angle,
    zoom) (counter-clockwise on screen, zoom > 1 enlarges), followed by a left-right flip where `flip`."""
    radians = angle_deg * (math.pi / 180.0)
    cos, sin = torch.cos(radians) / zoom, torch.sin(radians) / zoom
    sign = 1.0 - 2.0 * flip.to(cos.dtype)  # a flipped output column x reads the unflipped column -x
    zero = torch.zeros_like(cos)
    return torch.stack([torch.stack([cos * sign, -sin, zero], dim=-1),
                        torch.stack([sin * sign, cos, zero], dim=-1)], dim=1)


def warp(hu: torch.Tensor, labels: torch.Tensor, draw: AugmentDraw) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate, scale and flip HU (bilinear, air outside) and labels (nearest, background outside)."""
    theta = affine_theta(draw.angle_deg, draw.zoom, draw.flip).to(hu.dtype)
    grid = F.affine_grid(theta, list(hu.shape), align_corners=False)
    moved = F.grid_sample(hu - AIR_HU, grid, mode="bilinear", padding_mode="zeros", align_corners=False).add_(AIR_HU)
    mask = F.grid_sample(labels.unsqueeze(1).to(hu.dtype), grid, mode="nearest", padding_mode="zeros",
                         align_corners=False)
    return moved, mask.squeeze(1).round().to(torch.uint8)
