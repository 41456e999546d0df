"""Residual-CBAM U-Net: a registered encoder (core.model.encoders), four Up-CBAM decoder blocks, 1x1 head."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from core.model.blocks import UpCBAMBlock
from core.model.config import ModelConfig
from core.model.encoders import ENCODERS


class MandibleUNet(nn.Module):
    """Logits [N, 2, H, W] at the input resolution (H and W multiples of 32)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        spec = ENCODERS[config.encoder]
        self.encoder = spec.build()
        skips = spec.out_channels  # strides 2, 4, 8, 16, 32
        blocks = []
        in_channels = skips[4]
        for skip_channels, out_channels in zip(reversed(skips[:4]), config.decoder_channels):
            blocks.append(UpCBAMBlock(in_channels, skip_channels, out_channels, attention=config.attention))
            in_channels = out_channels
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(in_channels, len(config.class_names), 1)
        self._encoder_frozen = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        # The bottom feature map (stride 32) is brought to stride 16 to meet the deepest skip.
        y = F.interpolate(features[4], scale_factor=2.0, mode="bilinear", align_corners=False)
        for block, skip in zip(self.decoder, reversed(features[:4])):
            y = block(y, skip)
        return self.head(y)

    def freeze_encoder(self) -> None:
        """No gradients into the encoder and its BatchNorm statistics fixed, even after train()."""
        self._encoder_frozen = True
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(False)
        self.encoder.eval()

    def unfreeze_encoder(self) -> None:
        self._encoder_frozen = False
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(True)
        self.encoder.train(self.training)

    def train(self, mode: bool = True) -> "MandibleUNet":
        super().train(mode)
        if self._encoder_frozen:
            self.encoder.eval()
        return self
