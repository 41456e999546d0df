"""Residual-CBAM U-Net: a registered encoder (core.model.encoders), four Up-CBAM decoder blocks, 1x1 head."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from core.model.blocks import UpCBAMBlock
from core.model.config import ModelConfig
from core.model.encoders import ENCODERS


def widen_first_conv(encoder: nn.Module, in_channels: int) -> None:
    """Give the encoder's first convolution `in_channels` inputs (2.5-D context slices)."""
    name, conv = next((n, m) for n, m in encoder.named_modules() if isinstance(m, nn.Conv2d))
    if conv.in_channels == in_channels:
        return
    parent = encoder.get_submodule(name.rpartition(".")[0]) if "." in name else encoder
    setattr(parent, name.rpartition(".")[2],
            nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      bias=conv.bias is not None))


class MandibleUNet(nn.Module):
    """Logits [N, 2, H, W] at the input resolution (H and W multiples of 32)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        spec = ENCODERS[config.encoder]
        self.encoder = spec.build()
        widen_first_conv(self.encoder, config.input_channels)
        skips = spec.out_channels  # strides 2, 4, 8, 16, 32
        blocks = []
        in_channels = skips[4]
        for skip_channels, out_channels in zip(reversed(skips[:4]), config.decoder_channels):
            blocks.append(UpCBAMBlock(in_channels, skip_channels, out_channels, attention=config.attention))
            in_channels = out_channels
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(in_channels, len(config.class_names), 1)
        # Deep supervision: one 1x1 head on each coarser decoder output (strides 8, 4, 2), training only.
        self.aux_heads = nn.ModuleList(nn.Conv2d(channels, len(config.class_names), 1)
                                       for channels in config.decoder_channels[:3]) if config.deep_supervision else None
        self._encoder_frozen = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._decode(x)[-1])

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and, with deep supervision, the auxiliary logits (finest first) at the input resolution."""
        outputs = self._decode(x)
        if self.aux_heads is None:
            return self.head(outputs[-1]), []
        aux = [F.interpolate(head(y), size=x.shape[-2:], mode="bilinear", align_corners=False)
               for head, y in zip(self.aux_heads, outputs[:3])]
        return self.head(outputs[-1]), aux[::-1]

    def _decode(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = self.encoder(x)
        # The bottom feature map (stride 32) is brought to stride 16 to meet the deepest skip.
        y = F.interpolate(features[4], scale_factor=2.0, mode="bilinear", align_corners=False)
        outputs = []
        for block, skip in zip(self.decoder, reversed(features[:4])):
            y = block(y, skip)
            outputs.append(y)
        return outputs

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
