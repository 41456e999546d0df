"""Run a model on CT slices: pre-transforms (canvas, windows) -> network -> back to the slice grid.

    segmenter = Segmenter.from_file("mandible.msmodel")
    mask = segmenter.predict_volume(volume, progress=..., cancel=...)   # uint8 [slice, row, col]

On a CPU with native bf16 the network runs under bf16 autocast (about 3x faster, same masks
within Dice 0.005 of fp32; see benchmarks/bench_inference.py); --precision fp32 turns it off.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

import numpy as np
import torch

from core.errors import Cancelled
from core.inference.postprocess import clean_mask
from core.inference.preprocess import hu_slices, windowed_channels
from core.inference.tta import mandible_probability
from core.volume import Volume
from core.model.model_file import LoadedModel, load_model
from core.model.runtime import Runtime

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


class Segmenter:
    def __init__(self, model: LoadedModel, device: str = "auto", precision: str = "auto",
                 batch_size: int | None = None):
        self.model = model
        self.config = model.config
        self.runtime = Runtime.select(device, precision, inference=True)
        # One slice at a time on a CPU is as fast per slice and keeps peak RAM lowest (BENCHMARKS.md).
        self.batch_size = max(1, batch_size or (1 if self.runtime.device.type == "cpu" else 8))
        self.network = model.network.to(self.runtime.device).eval()
        self.network.to(memory_format=torch.channels_last)
        log.info("segmenting on %s", self.runtime.describe())

    @classmethod
    def from_file(cls, path, device: str = "auto", precision: str = "auto",
                  batch_size: int | None = None) -> "Segmenter":
        return cls(load_model(path), device, precision, batch_size)

    @torch.inference_mode()
    def probabilities(self, hu_canvas: np.ndarray) -> np.ndarray:
        """Mandible probability [n, S, S] for HU slices already on the model canvas."""
        hu = torch.from_numpy(np.ascontiguousarray(hu_canvas, dtype=np.float32)).to(self.runtime.device)
        x = windowed_channels(hu, self.config).contiguous(memory_format=torch.channels_last)
        return mandible_probability(self.network, x, self.config, self.runtime).cpu().numpy()

    def predict_slices(self, volume: Volume, indices: Sequence[int]) -> np.ndarray:
        """Masks uint8 [len(indices), rows, cols] on the volume's own grid, without post-processing."""
        canvas, geometry = hu_slices(volume, list(indices), self.config)
        probability = self.probabilities(canvas)
        return np.stack([geometry.to_original(p) > 0.5 for p in probability]).astype(np.uint8)

    def predict_slice(self, volume: Volume, index: int, postprocess: bool = True) -> np.ndarray:
        mask = self.predict_slices(volume, [index])[0]
        return clean_mask(mask) if postprocess else mask

    def predict_volume(self, volume: Volume, progress: Progress | None = None,
                       cancel: threading.Event | None = None, postprocess: bool = True) -> np.ndarray:
        """Every slice, in batches; `cancel` is checked before each batch (raises Cancelled)."""
        total = volume.num_slices
        masks = np.zeros(volume.shape, dtype=np.uint8)
        for start in range(0, total, self.batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"segmentation cancelled after {start} of {total} slices")
            stop = min(total, start + self.batch_size)
            masks[start:stop] = self.predict_slices(volume, range(start, stop))
            if progress is not None:
                progress(stop, total, f"segmented slice {stop}/{total}")
        return clean_mask(masks) if postprocess else masks
