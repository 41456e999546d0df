"""Small named building blocks of the residual-CBAM U-Net (Fang et al. 2024, section 1).

Names follow torchvision's ResNet (conv1, bn1, ..., downsample) so that torchvision
checkpoints load into the encoder without renaming any key.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ConvBNReLU(nn.Sequential):
    """3x3 (or k x k) convolution, BatchNorm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class _Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: 1x1 reduce, 3x3 (carries the stride), 1x1 expand, plus a shortcut."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int, downsample: nn.Module | None):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class ConvBlock(_Bottleneck):
    """Bottleneck whose shortcut is a strided 1x1 projection (first block of each stage)."""

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        out_channels = width * self.expansion
        projection = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        super().__init__(in_channels, width, stride, projection)


class IdentityBlock(_Bottleneck):
    """Bottleneck whose shortcut is the identity (input and output shapes are equal)."""

    def __init__(self, channels: int):
        super().__init__(channels, channels // self.expansion, 1, None)


class ChannelAttention(nn.Module):
    """sigma(MLP(AvgPool F) + MLP(MaxPool F)) with one shared MLP, reduction r."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(F.adaptive_avg_pool2d(x, 1))
        peak = self.mlp(F.adaptive_max_pool2d(x, 1))
        return x * torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):
    """sigma(conv7x7([mean over channels; max over channels]))."""

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Sequential):
    """Convolutional Block Attention Module: channel attention, then spatial attention."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__(ChannelAttention(channels, reduction), SpatialAttention())


class UpCBAMBlock(nn.Module):
    """Decoder block: concatenate the skip, CBAM, two 3x3 conv+BN+ReLU, then 2x upsampling."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, attention: bool = True):
        super().__init__()
        joined = in_channels + skip_channels
        self.attention = CBAM(joined) if attention else nn.Identity()
        self.conv1 = ConvBNReLU(joined, out_channels)
        self.conv2 = ConvBNReLU(out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.attention(torch.cat([x, skip], dim=1))
        x = self.conv2(self.conv1(x))
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
