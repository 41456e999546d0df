"""The network switches beyond the paper (issue 11; decision 122) and the one training entry's plan (issue 12)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.errors import TrainingError
from core.model.preprocess import context_planes, hu_slices, windowed_channels
from core.model.tta import mandible_probability
from core.model.model_file import LoadedModel, load_model, save_model
from core.model.runtime import Runtime
from core.model.unet import MandibleUNet
from core.training.config import TrainingConfig
from core.training.retrain import RetrainPlan
from core.training.schedule import TwoStageSchedule
from core.training.warm_start import start_weights
from core.volume import Volume
from tests.support.models import TINY



def _volume(spacing_z: float, slices: int = 9) -> Volume:
    hu = np.stack([np.full((32, 32), 100.0 * k, np.float32) for k in range(slices)])  # slice k holds 100 k HU
    return Volume(hu=hu, spacing=(spacing_z, 4.0, 4.0), name="ramp", units="HU")


@pytest.mark.parametrize("spacing, expected", [(1.5, [400, 200, 600, 0, 800]), (2.0, [400, 250, 550, 100, 700]),
                                               (0.0, [400, 300, 500, 200, 600])])
def test_context_slices_lie_a_fixed_distance_in_mm_away_whatever_the_slice_spacing(spacing, expected):
    config = replace(TINY, context_slices=2, context_mm=3.0)
    planes = context_planes(_volume(spacing), 4, config)
    assert [float(p.mean()) for p in planes] == pytest.approx(expected)  # the slice, -d, +d, -2d, +2d (ends clamp)
    canvas, _ = hu_slices(_volume(spacing), [4], config)
    assert canvas.shape == (1, 5, 64, 64)
    assert windowed_channels(torch.from_numpy(canvas), config).shape == (1, 15, 64, 64)


def test_a_2d_model_fine_tuned_into_a_2_5d_network_starts_out_predicting_the_same(tmp_path):
    torch.manual_seed(0)
    flat = MandibleUNet(TINY).eval()
    save_model(tmp_path / "flat.msmodel", flat, {"encoder_init": {"kind": "none", "source": "test"}})
    wide = MandibleUNet(replace(TINY, context_slices=1, deep_supervision=True))
    record = start_weights(wide, str(tmp_path / "flat.msmodel"))
    assert any("widened from 3 to 9" in part for part in record["adapted"])
    assert any("aux_heads" in part for part in record["adapted"])
    hu = torch.rand(2, 3, 64, 64) * 2000 - 1000
    wide.eval()
    with torch.no_grad():
        expected = flat(windowed_channels(hu[:, 0], TINY))
        got = wide(windowed_channels(hu, wide.config))  # neighbours differ, yet their weights start at zero
    torch.testing.assert_close(got, expected)
    with pytest.raises(TrainingError, match="shape"):
        start_weights(MandibleUNet(TINY), _saved(tmp_path, wide))


def _saved(tmp_path, network) -> str:
    save_model(tmp_path / "wide.msmodel", network, {"encoder_init": {"kind": "none", "source": "test"}})
    return str(tmp_path / "wide.msmodel")


def test_deep_supervision_adds_heads_for_training_only_and_the_model_file_keeps_them(tmp_path):
    torch.manual_seed(0)
    network = MandibleUNet(replace(TINY, deep_supervision=True))
    x = torch.randn(2, 3, 64, 64)
    logits, aux = network.forward_with_aux(x)
    assert [a.shape for a in aux] == [(2, 2, 64, 64)] * 3 and torch.equal(network(x), logits)
    network.eval()
    loaded = load_model(_saved(tmp_path, network))
    assert loaded.config.deep_supervision and torch.equal(loaded.network(x), network(x))


def test_flip_tta_makes_the_prediction_mirror_with_the_slice():
    torch.manual_seed(0)
    network = MandibleUNet(TINY).eval()
    x = torch.randn(2, 3, 64, 64)
    runtime = Runtime.select("cpu", "fp32")
    plain = mandible_probability(network, x, TINY, runtime)
    assert not torch.allclose(mandible_probability(network, x.flip(-1), TINY, runtime), plain.flip(-1))
    tta = replace(TINY, flip_tta=True)
    torch.testing.assert_close(mandible_probability(network, x.flip(-1), tta, runtime),
                               mandible_probability(network, x, tta, runtime).flip(-1))
    assert LoadedModel(network, tta).config.flip_tta


def test_learning_rate_shapes_keep_each_stage_rate_and_decay_over_the_run():
    steps = 10
    constant = TwoStageSchedule(4, 1, 1e-3, 1e-4)
    assert [constant.lr_at(e, 0, steps) for e in range(4)] == [1e-3, 1e-4, 1e-4, 1e-4]
    cosine = TwoStageSchedule(4, 0, 1e-3, 1e-3, "cosine")
    rates = [cosine.lr_at(e, s, steps) for e in range(4) for s in range(steps)]
    assert rates[0] == pytest.approx(1e-3) and all(a > b for a, b in zip(rates, rates[1:]))
    assert cosine.lr_at(2, 0, steps) == pytest.approx(0.5e-3)  # half-way
    poly = TwoStageSchedule(4, 0, 1e-3, 1e-3, "poly")
    assert poly.lr_at(2, 0, steps) == pytest.approx(1e-3 * 0.5 ** 0.9)
    with pytest.raises(ValueError, match="cosine"):
        TwoStageSchedule(4, 0, 1e-3, 1e-3, "step")
    assert math.isclose(TrainingConfig(data=[], out="", lr_schedule="poly").schedule().lr_at(0, 0, 1),
                        TrainingConfig.default("lr"))


def test_a_retrain_plan_holds_only_what_differs_from_the_training_defaults():
    plan = RetrainPlan({"epochs": 3, "max_slices_per_case": 8})
    assert plan.value("epochs") == 3 and plan.value("lr") == TrainingConfig.default("lr")
    assert RetrainPlan.from_json(plan.to_json()) == plan
    with pytest.raises(TrainingError, match="unknown training settings: learning_speed"):
        RetrainPlan({"learning_speed": 1})
