"""The paper's metrics from a hand-made confusion matrix, pooled over slices, and 3-D Dice per case."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.training.metrics import (Confusion, SegmentationMetrics, accuracy, confusion, dice, iou_mandible,
                                   mean_iou, precision, recall)


def _masks():
    # 10 pixels: tp=3, fp=1, fn=2, tn=4.
    prediction = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    target = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
    return prediction.reshape(2, 5), target.reshape(2, 5)


def test_counts_and_metrics_match_a_hand_made_confusion_matrix():
    prediction, target = _masks()
    c = confusion(prediction, target)
    assert c == Confusion(tp=3, fp=1, fn=2, tn=4)
    assert confusion(torch.tensor(prediction), torch.tensor(target)) == c
    assert accuracy(c) == pytest.approx(7 / 10)
    assert precision(c) == pytest.approx(3 / 4)
    assert recall(c) == pytest.approx(3 / 5)
    assert iou_mandible(c) == pytest.approx(3 / 6)
    assert mean_iou(c) == pytest.approx((3 / 6 + 4 / 7) / 2)
    assert dice(c) == pytest.approx(6 / 9)


def test_accumulator_pools_slices_and_keeps_3d_dice_per_case():
    prediction, target = _masks()
    metrics = SegmentationMetrics()
    metrics.update(prediction, target, case="a")  # tp 3 fp 1 fn 2
    metrics.update(target, target, case="b")  # perfect: tp 5
    result = metrics.aggregate()
    assert result["dice"] == pytest.approx(2 * 8 / (2 * 8 + 1 + 2))
    assert result["dice_3d"] == pytest.approx({"a": 6 / 9, "b": 1.0})
    assert result["dice_3d_mean"] == pytest.approx((6 / 9 + 1.0) / 2)
    assert (result["slices"], result["cases"]) == (2, 2)
    metrics.reset()
    assert metrics.aggregate()["slices"] == 0


def test_nothing_predicted_and_nothing_there_counts_as_perfect():
    empty = np.zeros((4, 4))
    c = confusion(empty, empty)
    assert (precision(c), recall(c), dice(c), mean_iou(c)) == (1.0, 1.0, 1.0, 1.0)
    missed = confusion(empty, np.ones((4, 4)))
    assert (recall(missed), dice(missed)) == (0.0, 0.0)
