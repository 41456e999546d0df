"""Run a model on CT slices: pre-transforms (canvas, windows) -> network -> the one post-processing policy.

    segmenter = Segmenter.from_file("mandible.msmodel")
    for prediction in segmenter.predict(volume, cancel=cancel):   # the one prediction path
        prediction.index, prediction.mask, prediction.confidence
    masks = segmenter.predict_volume(volume)                     # the same, collected: uint8 [slice, row, col]

`predict` yields one SlicePrediction per slice as its batch finishes, then, once every slice asked for is
done, the slices the whole-run step of the policy changed again (`revised`; core/inference/postprocess.py).
`cancel` is checked before each batch (raises Cancelled). On a CPU with native bf16 the network runs under
bf16 autocast (about 3x faster, same masks within Dice 0.005 of fp32; benchmarks/bench_inference.py);
--precision fp32 turns it off. On a CPU without it (AVX2), a model file runs through OpenVINO when it is
installed (`engine` auto; several times torch's fp32 speed, the same masks: core/model/openvino_network.py).

Throughput (docs/decisions/125, 126): the next batch's canvas is prepared in a worker thread while the network
runs the current one (`prefetch` batches ahead; 0 prepares in line); on CUDA the canvas is pinned there and copied
without blocking. `compile` (off by default, never implied on a CPU) runs the network through torch.compile in
one of runtime.COMPILE_MODES, the last partial batch padded with air to the fixed batch shape.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from core.errors import Cancelled, MandibleStudioError
from core.inference.confidence import mask_confidence
from core.inference.postprocess import (PROBABILITY_FLOOR, PredictionPolicy, region_masks, runs, slice_masks,
                                       whole_run_masks)
from core.inference.refine import band_bone_level, refinable
from core.inference.prefetch import prefetched
from core.inference.slice_crops import SliceCrops
from core.model.preprocess import AIR_HU, SliceGeometry, hu_slices, windowed_channels
from core.model.tta import mandible_probability
from core.model.model_file import LoadedModel, load_model
from core.model.openvino_network import openvino_network, select_engine
from core.model.runtime import CompiledNetwork, Runtime
from core.volume import Volume

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
DEFAULT_POLICY = PredictionPolicy()


@dataclass(frozen=True)
class SlicePrediction:
    """One slice's result: its mask on the CT's own grid, how sure that mask is (0..1,
    core/inference/confidence.py), and whether it revises a mask yielded before (the whole-run step of the policy
    changed it)."""

    index: int
    mask: np.ndarray
    confidence: float
    revised: bool = False


class Segmenter:
    def __init__(self, model: LoadedModel, device: str = "auto", precision: str = "auto",
                 batch_size: int | None = None, prefetch: int = 1, compile: str = "off", engine: str = "auto"):
        self.model = model
        self.config = model.config
        self.runtime = Runtime.select(device, precision, inference=True)
        self.engine = select_engine(engine, model, self.runtime, compile)
        self.network = model.network.to(self.runtime.device).eval()
        self.network.to(memory_format=torch.channels_last)
        self.forward = self._openvino_or_none(model, engine) if self.engine == "openvino" else None
        if self.forward is None:
            self.engine = "torch"
            self.forward = self.network if compile == "off" else CompiledNetwork(self.network, compile)
        # torch on a CPU: one slice at a time is as fast per slice and keeps peak RAM lowest; OpenVINO gains
        # 10-20 % per slice from batches of 4 (BENCHMARKS.md).
        default_batch = 8 if self.runtime.device.type != "cpu" else 4 if self.engine == "openvino" else 1
        self.batch_size = max(1, batch_size or default_batch)
        self.prefetch = max(0, prefetch)
        log.info("segmenting on %s with %s%s", self.runtime.describe(), self.engine,
                 "" if compile == "off" else f", compile {compile}")

    def _openvino_or_none(self, model: LoadedModel, engine: str):
        """OpenVINO's compiled network; None (torch then segments, said in the log) when `engine` was auto and
        OpenVINO cannot convert or compile this model here (a damaged install, a bundle without its CPU plugin)."""
        try:
            return openvino_network(model, self.runtime)
        except (RuntimeError, ImportError, OSError) as error:
            if engine != "auto":
                raise MandibleStudioError(f"OpenVINO could not prepare the network: {error}") from error
            log.warning("OpenVINO could not prepare the network (%s); segmenting with torch instead", error)
            return None

    @classmethod
    def from_file(cls, path, device: str = "auto", precision: str = "auto", batch_size: int | None = None,
                  prefetch: int = 1, compile: str = "off", engine: str = "auto") -> "Segmenter":
        return cls(load_model(path), device, precision, batch_size, prefetch, compile, engine)

    @property
    def fixed_batch(self) -> bool:
        """Compiled networks (and their CUDA graphs) see one batch shape: the last batch is padded to it."""
        return isinstance(self.forward, CompiledNetwork)

    @torch.inference_mode()
    def probabilities(self, hu_canvas: np.ndarray | torch.Tensor) -> np.ndarray:
        """Mandible probability [n, S, S] for HU slices already on the model canvas (numpy, or a pinned tensor)."""
        hu = torch.as_tensor(hu_canvas, dtype=torch.float32).to(self.runtime.device, non_blocking=True)
        x = windowed_channels(hu, self.config).contiguous(memory_format=torch.channels_last)
        return mandible_probability(self.forward, x, self.config, self.runtime).cpu().numpy()

    def predict(self, volume: Volume, indexes: Sequence[int] | None = None,
                policy: PredictionPolicy = DEFAULT_POLICY, cancel: threading.Event | None = None,
                live: bool = True) -> Iterator[SlicePrediction]:
        """The one prediction path: every slice of `indexes` (default: all), then the revised ones.

        `live` (the app, where a user watches the slices arrive): each batch is refined as it arrives, then each
        run again as a whole. Not live (`predict_volume`: the command line, evaluate): the slices first come
        thresholded and each run is refined once, at the end; the final masks are the same."""
        todo = list(range(volume.num_slices)) if indexes is None else sorted({int(i) for i in indexes})
        adjacent = float(volume.spacing[0]) > 0  # a Labelme folder of chosen slices has no slice spacing
        batches = [todo[start:start + self.batch_size] for start in range(0, len(todo), self.batch_size)]
        prepared = prefetched(batches, lambda batch: self._canvas(volume, batch), self.prefetch)
        first = SliceCrops(volume.shape, np.uint8)  # each slice's first mask, to tell what the whole-run step revises
        confidences: dict[int, float] = {}
        # The probability on the CT's grid for the whole-run refinement, only where it can matter (float16 crops).
        kept = SliceCrops(volume.shape, np.float16, PROBABILITY_FLOOR) if policy.refine else None
        batch_policy = policy if live else dataclasses.replace(policy, refine=False)
        try:
            for batch in batches:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"segmentation cancelled after {len(confidences)} of {len(todo)} slices")
                canvas, geometry = next(prepared)
                for prediction in self._predict_batch(volume, batch, canvas, geometry, adjacent, batch_policy, kept):
                    first.put(prediction.index, prediction.mask)
                    confidences[prediction.index] = prediction.confidence
                    yield prediction
        finally:
            prepared.close()  # stops the worker: no thread outlives a cancelled or failed prediction

        measured: list[int] = []  # the last run: its probability stays until its revised masks are measured

        def run_masks(run: list[int]):
            kept.discard(measured)  # what the run before needed is freed before this run
            measured[:] = run
            start, stop = run[0], run[-1] + 1
            region = region_masks(volume.hu[start:stop], kept.window(start, stop), _spacing(volume), volume.units,
                                  policy, self.config.mm_per_pixel)
            if region is None:
                return None
            (slices, rows, cols), masks = region
            return (slice(start + slices.start, start + slices.stop), rows, cols), masks
        for index, mask in whole_run_masks(first, todo, adjacent, policy, run_masks, singles_done=live):
            # measured again on the mask shown; without refinement the map is not kept (the clean-up's small
            # islands hardly change it) and the first figure stays
            confidence = (confidences[index] if kept is None
                          else self._confidence(volume, index, kept[index].astype(np.float32), mask, policy))
            yield SlicePrediction(index, mask, confidence, revised=True)
        if kept is not None:
            kept.discard(measured)

    def _canvas(self, volume: Volume, batch: list[int]) -> tuple[np.ndarray | torch.Tensor, SliceGeometry]:
        """The batch on the model canvas (runs in the prefetch worker): padded with air to the fixed batch shape
        when the network is compiled, pinned for a copy that does not block on CUDA."""
        canvas, geometry = hu_slices(volume, batch, self.config)
        if self.fixed_batch and len(canvas) < self.batch_size:
            padding = np.full((self.batch_size - len(canvas), *canvas.shape[1:]), AIR_HU, np.float32)
            canvas = np.concatenate([canvas, padding])
        if self.runtime.device.type == "cuda":
            return torch.from_numpy(canvas).pin_memory(), geometry
        return canvas, geometry

    def _predict_batch(self, volume: Volume, batch: list[int], canvas, geometry: SliceGeometry, adjacent: bool,
                       policy: PredictionPolicy, kept: SliceCrops | None) -> Iterator[SlicePrediction]:
        probability = self.probabilities(canvas)[:len(batch)]
        on_grid = np.stack([geometry.to_original(p) for p in probability])
        if kept is not None:
            for index, plane in zip(batch, on_grid):
                kept.put(index, plane)
        position = {index: n for n, index in enumerate(batch)}
        for run in runs(batch, adjacent):
            rows = [position[i] for i in run]
            hu = np.asarray(volume.hu[run], np.float32)
            masks = slice_masks(hu, on_grid[rows], _spacing(volume), volume.units, policy, self.config.mm_per_pixel)
            for index, row, mask in zip(run, rows, masks):
                yield SlicePrediction(index, mask, self._confidence(volume, index, on_grid[row], mask, policy))

    def _confidence(self, volume: Volume, index: int, probability: np.ndarray, mask: np.ndarray,
                    policy: PredictionPolicy) -> float:
        """How sure the mask shown is (core/inference/confidence.py): the CT counts where refinement drew it, at the
        bone level refinement's rule gives this slice's band (docs/decisions/202)."""
        if policy.refine and refinable(volume.units, _spacing(volume), self.config.mm_per_pixel):
            hu = np.asarray(volume.hu[index])
            return mask_confidence(probability, mask, hu, band_bone_level(hu, probability))
        return mask_confidence(probability, mask)

    def predict_volume(self, volume: Volume, policy: PredictionPolicy = DEFAULT_POLICY,
                       progress: Progress | None = None, cancel: threading.Event | None = None) -> np.ndarray:
        """`predict` over every slice, not live (each run refined once), collected into uint8 [slice, row, col]."""
        masks = np.zeros(volume.shape, dtype=np.uint8)
        total = volume.num_slices
        done = 0
        for prediction in self.predict(volume, policy=policy, cancel=cancel, live=False):
            masks[prediction.index] = prediction.mask
            if not prediction.revised:
                done += 1
                if progress is not None:
                    progress(done, total, f"segmented slice {done}/{total}")
        return masks


def _spacing(volume: Volume) -> tuple[float, float, float] | None:
    """The volume's spacing for refinement; None when no file recorded it (1 mm was assumed)."""
    return tuple(float(s) for s in volume.spacing) if volume.spacing_known else None
