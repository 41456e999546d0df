"""The network: shapes, CBAM arithmetic, torchvision compatibility, frozen encoder during training."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from core.model.blocks import CBAM
from core.model.config import ModelConfig
from core.model.encoders import ENCODERS
from core.model.unet import MandibleUNet
from core.model.runtime import Runtime
from core.training.config import TrainingConfig
from core.training.epoch import EpochRunner
from core.training.schedule import FROZEN, UNFROZEN
from core.training.slices import SliceSet


@pytest.mark.parametrize("encoder,attention", [("resnet50", True), ("resnet50", False), ("plain", True)])
def test_logits_have_two_classes_at_the_input_size(encoder, attention):
    network = MandibleUNet(ModelConfig(encoder=encoder, attention=attention, input_size=64)).eval()
    with torch.inference_mode():
        assert network(torch.randn(2, 3, 64, 96)).shape == (2, 2, 64, 96)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_each_registered_encoder_gives_the_feature_maps_it_declares(name):
    spec = ENCODERS[name]
    with torch.inference_mode():
        features = spec.build().eval()(torch.zeros(1, 3, 64, 64))
    assert tuple(f.shape[1] for f in features) == spec.out_channels
    assert [f.shape[-1] for f in features] == [32, 16, 8, 4, 2]  # strides 2, 4, 8, 16, 32
    for weights in spec.weights.values():  # known weights name real torchvision weights
        enum = getattr(torchvision.models, weights.enum)
        assert all(hasattr(enum, member) for member in weights.members)


def test_paper_size_512_gives_512_logits():
    # On the meta device: every layer's shapes, none of the arithmetic (bf16 has its own test in test_inference).
    with torch.device("meta"), torch.inference_mode():
        network = MandibleUNet(ModelConfig()).eval()
        assert network(torch.zeros(1, 3, 512, 512)).shape == (1, 2, 512, 512)


def test_cbam_matches_a_hand_computation():
    torch.manual_seed(0)
    cbam = CBAM(channels=2, reduction=16)  # hidden width max(2 // 16, 1) = 1
    w1 = np.array([[0.5, -1.0]])  # 2 -> 1
    w2 = np.array([[1.0], [-2.0]])  # 1 -> 2
    kernel = np.random.default_rng(0).normal(size=(2, 7, 7))
    with torch.no_grad():
        cbam[0].mlp[0].weight.copy_(torch.tensor(w1).reshape(1, 2, 1, 1))
        cbam[0].mlp[2].weight.copy_(torch.tensor(w2).reshape(2, 1, 1, 1))
        cbam[1].conv.weight.copy_(torch.tensor(kernel).reshape(1, 2, 7, 7))
    x = np.random.default_rng(1).normal(size=(2, 3, 3))  # channels, rows, cols

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def mlp(v):
        return w2 @ np.maximum(w1 @ v, 0)

    channel = sigmoid(mlp(x.mean(axis=(1, 2))) + mlp(x.max(axis=(1, 2))))
    y = x * channel[:, None, None]
    pooled = np.stack([y.mean(axis=0), y.max(axis=0)])
    padded = np.pad(pooled, ((0, 0), (3, 3), (3, 3)))
    conv = np.array([[np.sum(padded[:, r:r + 7, c:c + 7] * kernel) for c in range(3)] for r in range(3)])
    expected = y * sigmoid(conv)[None]
    out = cbam(torch.tensor(x, dtype=torch.float32)[None])[0].detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_torchvision_resnet50_weights_load_without_missing_keys():
    encoder = MandibleUNet(ModelConfig(input_size=64)).encoder
    reference = torchvision.models.resnet50()
    missing, unexpected = encoder.load_state_dict(reference.state_dict(), strict=False)
    assert missing == []
    assert sorted(unexpected) == ["fc.bias", "fc.weight"]
    x = torch.randn(1, 3, 64, 64)
    reference.eval(); encoder.eval()
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(reference.children())[:-2])
        torch.testing.assert_close(encoder(x)[-1], trunk(x))


def _runner_and_batch(stage: str):
    torch.manual_seed(0)
    network = MandibleUNet(ModelConfig(input_size=64))
    config = TrainingConfig(data=[], out="unused", batch_size=2, input_size=64, augment=False)
    runner = EpochRunner(network, Runtime.select("cpu", "fp32"), config, config.schedule())
    runner.enter_stage(stage, None)
    labels = np.zeros((2, 64, 64), np.uint8)
    labels[:, 20:40, 10:50] = 1
    hu = np.where(labels > 0, 1200, 0).astype(np.int16)
    return runner, SliceSet(hu, labels, np.zeros(2, int), ["case"])


def _encoder_state(network):
    return {k: v.clone() for k, v in network.encoder.state_dict().items()}


def test_frozen_stage_keeps_encoder_weights_and_batchnorm_statistics_bit_identical():
    runner, slices = _runner_and_batch(FROZEN)
    before = _encoder_state(runner.network)
    decoder_before = runner.network.head.weight.clone()
    runner.network.train()  # must not wake the frozen BatchNorm
    list(runner.train_epoch(slices, epoch=0, cancel=None))
    after = runner.network.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not torch.equal(decoder_before, runner.network.head.weight)

    runner.enter_stage(UNFROZEN, None)
    list(runner.train_epoch(slices, epoch=1, cancel=None))
    after = runner.network.encoder.state_dict()
    assert not torch.equal(before["conv1.weight"], after["conv1.weight"])
    assert not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"])
