"""Focal loss (gamma = 2, Lin et al.) with an optional soft Dice term."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """Mean over pixels of FL(pt) = -(1 - pt)^gamma log(pt); logits [N, C, H, W], target [N, H, W]."""
    log_p = F.log_softmax(logits.float(), dim=1)
    log_pt = log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
    pt = log_pt.exp()
    return (-((1.0 - pt) ** gamma) * log_pt).mean()


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - soft Dice of the mandible (class 1) probability, pooled over the batch."""
    probability = F.softmax(logits.float(), dim=1)[:, 1]
    target = target.float()
    intersection = (probability * target).sum()
    return 1.0 - (2.0 * intersection + smooth) / (probability.sum() + target.sum() + smooth)


class SegmentationLoss(nn.Module):
    """focal_loss + dice_weight * soft_dice_loss."""

    def __init__(self, gamma: float = 2.0, dice_weight: float = 0.0):
        super().__init__()
        self.gamma = gamma
        self.dice_weight = dice_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = focal_loss(logits, target, self.gamma)
        if self.dice_weight:
            loss = loss + self.dice_weight * soft_dice_loss(logits, target)
        return loss
