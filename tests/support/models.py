"""Small model files for tests whose subject is not the ResNet-50 network itself: the tiny encoder
(core.model.encoders, "tiny") with a narrow decoder, 64 px input at 8 mm per pixel."""
from __future__ import annotations

from pathlib import Path

import torch

from core.model.config import ModelConfig
from core.model.model_file import save_model
from core.model.unet import MandibleUNet

TINY = ModelConfig(encoder="tiny", input_size=64, mm_per_pixel=8.0, decoder_channels=(32, 16, 16, 8))


def write_biased_model(path: Path, foreground: bool, seed: int = 0, config: ModelConfig = TINY) -> Path:
    """A tiny model whose head is biased to say 'mandible' (or 'background') everywhere: its masks are known."""
    torch.manual_seed(seed)
    network = MandibleUNet(config)
    with torch.no_grad():
        network.head.weight.zero_()
        network.head.bias.copy_(torch.tensor([-5.0, 5.0] if foreground else [5.0, -5.0]))
    save_model(path, network, {"encoder_init": {"kind": "none", "source": "test"}})
    return path
