"""The paper's metrics (eq. 7-10) from a confusion matrix pooled over slices, plus 3-D Dice per case.

A ratio whose denominator is zero (say, precision when nothing was predicted and nothing was
there) counts as 1.0: there was nothing to get wrong. Every metric is a plain function of the
counts, and SegmentationMetrics accumulates them (reset / update / aggregate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Confusion:
    """Pixel counts: tp/fp/fn/tn with mandible as the positive class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: "Confusion") -> "Confusion":
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def confusion(prediction, target) -> Confusion:
    """Counts for two masks of equal shape (numpy or torch; nonzero = mandible)."""
    if isinstance(prediction, torch.Tensor):
        p, t = prediction.bool(), torch.as_tensor(target, device=prediction.device).bool()
        count = lambda m: int(m.sum())  # noqa: E731
    else:
        p, t = np.asarray(prediction).astype(bool), np.asarray(target).astype(bool)
        count = np.count_nonzero
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    tp, fp, fn = int(count(p & t)), int(count(p & ~t)), int(count(~p & t))
    return Confusion(tp, fp, fn, int(np.prod(p.shape)) - tp - fp - fn)


def _ratio(numerator: int, denominator: int) -> float:
    return 1.0 if denominator == 0 else numerator / denominator


def accuracy(c: Confusion) -> float:
    return _ratio(c.tp + c.tn, c.total)


def precision(c: Confusion) -> float:
    return _ratio(c.tp, c.tp + c.fp)


def recall(c: Confusion) -> float:
    return _ratio(c.tp, c.tp + c.fn)


def iou_mandible(c: Confusion) -> float:
    return _ratio(c.tp, c.tp + c.fp + c.fn)


def iou_background(c: Confusion) -> float:
    return _ratio(c.tn, c.tn + c.fn + c.fp)


def mean_iou(c: Confusion) -> float:
    return (iou_mandible(c) + iou_background(c)) / 2.0


def dice(c: Confusion) -> float:
    return _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn)


class SegmentationMetrics:
    """Pools confusion counts over slices; keeps one count per case for the 3-D Dice."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.pooled = Confusion()
        self.per_case: dict[str, Confusion] = {}
        self.slices = 0

    def update(self, prediction, target, case: str = "") -> Confusion:
        """Add masks [H, W] or [N, H, W] (N slices) of one case; return their counts."""
        counts = confusion(prediction, target)
        self.add(counts, case, 1 if np.ndim(prediction) == 2 else int(np.shape(prediction)[0]))
        return counts

    def add(self, counts: Confusion, case: str = "", slices: int = 1) -> None:
        """Add counts made elsewhere (say, on a GPU for many slices at once)."""
        self.pooled = self.pooled + counts
        self.per_case[case] = self.per_case.get(case, Confusion()) + counts
        self.slices += slices

    def aggregate(self) -> dict:
        c = self.pooled
        per_case = {name: dice(counts) for name, counts in self.per_case.items()}
        return {
            "acc": accuracy(c), "precision": precision(c), "recall": recall(c), "miou": mean_iou(c),
            "iou_mandible": iou_mandible(c), "dice": dice(c),
            "dice_3d_mean": float(np.mean(list(per_case.values()))) if per_case else 1.0,
            "dice_3d": per_case, "slices": self.slices, "cases": len(per_case),
        }
