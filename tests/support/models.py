"""Stand-ins for the network in tests whose subject is not the ResNet-50 network itself: small model files (the
tiny encoder, core.model.encoders "tiny", with a narrow decoder, 64 px input at 8 mm per pixel), and a segmenter
that answers with a label volume."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from core.errors import Cancelled
from core.inference.segmenter import SlicePrediction
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


def sureness(index: int) -> float:
    return 0.95 if index % 4 == 0 else 0.6


class LabelSegmenter:
    """Stands in for the network: the label grown by one pixel; `hold_after` slices, then it waits for `gate`."""

    def __init__(self, labels: np.ndarray) -> None:
        self.masks = np.stack([ndimage.binary_dilation(m > 0) for m in labels]).astype(np.uint8)
        self.hold_after: int | None = None
        self.gate = threading.Event()

    def predict(self, volume, indexes, policy, cancel=None):
        todo = sorted(indexes)
        for n, index in enumerate(todo):
            while n == self.hold_after and not self.gate.wait(0.05):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"cancelled after {n} slices")
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"cancelled after {n} slices")
            yield SlicePrediction(index, self.masks[index], sureness(index))
        for index in [i for i in todo if self.masks[i].any()][:3]:  # the whole-run clean-up revises a few
            revised = self.masks[index].copy()
            revised[np.nonzero(revised)[0][0]] = 0
            yield SlicePrediction(index, revised, sureness(index), revised=True)
