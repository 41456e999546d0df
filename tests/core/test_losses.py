"""Focal loss against its formula, and the optional Dice term."""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from core.training.losses import SegmentationLoss, focal_loss, soft_dice_loss


def test_focal_loss_matches_the_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 2, 3, 4)) * 3
    target = rng.integers(0, 2, size=(2, 3, 4))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pt = np.take_along_axis(p, target[:, None], axis=1)[:, 0]
    expected = np.mean(-((1 - pt) ** 2) * np.log(pt))
    got = focal_loss(torch.tensor(logits, dtype=torch.float32), torch.tensor(target), gamma=2.0)
    assert abs(float(got) - expected) < 1e-6


def test_focal_loss_with_gamma_zero_is_cross_entropy_and_gamma_two_down_weights_easy_pixels():
    logits = torch.randn(3, 2, 5, 5)
    target = torch.randint(0, 2, (3, 5, 5))
    torch.testing.assert_close(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    assert focal_loss(logits, target, gamma=2.0) < F.cross_entropy(logits, target)


def test_dice_term_is_near_zero_for_a_confident_right_answer_and_adds_to_the_loss():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2:6, 2:6] = 1
    logits = torch.stack([(1 - target) * 20.0 - 10.0, target * 20.0 - 10.0], dim=1).float()
    assert float(soft_dice_loss(logits, target)) < 1e-3
    wrong = -logits
    assert float(soft_dice_loss(wrong, target)) > 0.9
    assert float(SegmentationLoss(dice_weight=1.0)(wrong, target)) > float(SegmentationLoss()(wrong, target))
