"""Encoders returning five feature maps at strides 2, 4, 8, 16 and 32, and their registry.

`ResNet50Encoder` has exactly torchvision's resnet50 module names (conv1, bn1, relu, maxpool,
layer1..layer4 with `downsample`), so a torchvision state dict loads with no key renaming;
only `fc.*` is left over. `PlainEncoder` is the VGG-like encoder of the original U-Net,
for the paper's ablation (Table 3).

`ENCODERS` declares each encoder once, as data (the shape of segmentation_models_pytorch's
`encoders/__init__.py`): its builder, the channels of its five feature maps and the starting
weights known for it. Adding an encoder = one class and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import torch
from torch import nn

from core.model.blocks import ConvBlock, ConvBNReLU, IdentityBlock

# (bottleneck width, number of blocks, stride) of resnet50's four stages.
RESNET50_STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))


def _resnet_stage(in_channels: int, width: int, blocks: int, stride: int) -> nn.Sequential:
    first = ConvBlock(in_channels, width, stride)
    channels = width * ConvBlock.expansion
    return nn.Sequential(first, *(IdentityBlock(channels) for _ in range(blocks - 1)))


class ResNet50Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_channels = 64
        for index, (width, blocks, stride) in enumerate(RESNET50_STAGES, start=1):
            self.add_module(f"layer{index}", _resnet_stage(in_channels, width, blocks, stride))
            in_channels = width * ConvBlock.expansion

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        stem = self.relu(self.bn1(self.conv1(x)))
        c2 = self.layer1(self.maxpool(stem))
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return [stem, c2, c3, c4, c5]


class DoubleConv(nn.Sequential):
    """Two 3x3 conv+BN+ReLU; the first may be strided."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__(ConvBNReLU(in_channels, out_channels, stride=stride), ConvBNReLU(out_channels, out_channels))


class PlainEncoder(nn.Module):
    def __init__(self, channels: tuple[int, int, int, int, int]):
        super().__init__()
        self.stage1 = DoubleConv(3, channels[0], stride=2)
        self.stages = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), DoubleConv(channels[i], channels[i + 1])) for i in range(4)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stage1(x)]
        for stage in self.stages:
            features.append(stage(features[-1]))
        return features


@dataclass(frozen=True)
class KnownWeights:
    """Published starting weights for an encoder: torchvision's `enum` class and its members, best first."""

    enum: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class EncoderSpec:
    label: str  # what the user reads
    build: Callable[[], nn.Module]
    out_channels: tuple[int, int, int, int, int]  # of the feature maps at strides 2, 4, 8, 16, 32
    weights: dict[str, KnownWeights] = field(default_factory=dict)


PLAIN_CHANNELS = (64, 128, 256, 512, 1024)
# The plain encoder at an eighth of the width (about 0.3 M parameters instead of ResNet-50's 23.5 M): for
# tests of everything around the network and for quick trials on a CPU, never for a clinical model.
TINY_CHANNELS = (8, 16, 32, 64, 128)

ENCODERS: dict[str, EncoderSpec] = {
    "resnet50": EncoderSpec(
        label="ResNet-50", build=ResNet50Encoder, out_channels=(64, 256, 512, 1024, 2048),
        weights={"imagenet": KnownWeights("ResNet50_Weights", ("IMAGENET1K_V2", "IMAGENET1K_V1"))}),
    "plain": EncoderSpec(label="plain U-Net encoder", build=partial(PlainEncoder, PLAIN_CHANNELS),
                         out_channels=PLAIN_CHANNELS),
    "tiny": EncoderSpec(label="tiny plain encoder (tests, quick trials)", build=partial(PlainEncoder, TINY_CHANNELS),
                        out_channels=TINY_CHANNELS),
}
