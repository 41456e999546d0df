"""CT slice -> network input, and network output -> mask on the slice's own grid.

Scale handling (docs/decisions/021): each slice is resampled to the model's fixed millimetres per
pixel, then centre padded (air) or cropped to the square input: the aspect ratio is kept and a
0.3 mm dental scan and a 4 mm OpenKBP grid show the mandible at the same size in pixels.
When the pixel spacing is unknown (a plain image), the slice is scaled to fit the input instead.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from core.calibration import AIR_HU, GreyMap, image_slices_calibration
from core.model.config import ModelConfig

__all__ = ["AIR_HU", "SliceGeometry", "context_planes", "hu_slices", "image_slices_map", "slice_spacing",
           "windowed_channels"]


@dataclass(frozen=True)
class SliceGeometry:
    """Where an original H x W slice lies on the model's S x S canvas."""

    height: int
    width: int
    resized_height: int
    resized_width: int
    size: int

    @classmethod
    def for_slice(cls, height: int, width: int, spacing_rc: tuple[float, float] | None,
                  config: ModelConfig) -> "SliceGeometry":
        size = config.input_size
        if spacing_rc is None or min(spacing_rc) <= 0:
            scale = size / max(height, width)
            scale_r = scale_c = scale
        else:
            scale_r = spacing_rc[0] / config.mm_per_pixel
            scale_c = spacing_rc[1] / config.mm_per_pixel
        return cls(height, width, max(1, round(height * scale_r)), max(1, round(width * scale_c)), size)

    @property
    def offset(self) -> tuple[int, int]:
        """Top-left corner of the resized slice on the canvas (negative = cropped)."""
        return (self.size - self.resized_height) // 2, (self.size - self.resized_width) // 2

    def _regions(self) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """(canvas region, resized-slice region) that overlap."""
        top, left = self.offset
        r0, c0 = max(0, top), max(0, left)
        r1, c1 = min(self.size, top + self.resized_height), min(self.size, left + self.resized_width)
        return (slice(r0, r1), slice(c0, c1)), (slice(r0 - top, r1 - top), slice(c0 - left, c1 - left))

    def to_model(self, image: np.ndarray, fill: float) -> np.ndarray:
        """float32 S x S canvas holding `image` resampled, the rest `fill`."""
        image = np.asarray(image, dtype=np.float32)
        shrinking = self.resized_height * self.resized_width < self.height * self.width
        resized = cv2.resize(image, (self.resized_width, self.resized_height),
                             interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        canvas = np.full((self.size, self.size), fill, dtype=np.float32)
        canvas_region, image_region = self._regions()
        canvas[canvas_region] = resized[image_region]
        return canvas

    def to_original(self, probability: np.ndarray) -> np.ndarray:
        """Foreground probability on the canvas -> the original H x W grid (outside the canvas: 0)."""
        resized = np.zeros((self.resized_height, self.resized_width), dtype=np.float32)
        canvas_region, image_region = self._regions()
        resized[image_region] = probability[canvas_region]
        return cv2.resize(resized, (self.width, self.height), interpolation=cv2.INTER_LINEAR)


def image_slices_map(volume, config: ModelConfig) -> GreyMap | None:
    """How an image stack's grey values ("display" units) become the model's HU: their display range read as the
    model's first (bone) window (core.calibration.image_slices_calibration). None for a CT (already in HU)."""
    if volume.units == "HU":
        return None
    from core.windowing import display_window_for

    display = display_window_for(volume)
    _, center, width = config.windows[0]
    return image_slices_calibration(display.low, display.high, center, width).grey_map


def windowed_channels(hu: torch.Tensor, config: ModelConfig,
                      windows: torch.Tensor | None = None) -> torch.Tensor:
    """[N, S, S] (or [N, C, S, S]: a slice and its neighbours) HU -> [N, 3C, S, S] network input: three
    windows of each slice, normalised like ImageNet; the slice itself comes first (channels 0-2).

    `windows` ([N, 3, 2] center/width) overrides the model's windows per sample (window jitter).
    """
    if hu.dim() == 3:
        hu = hu.unsqueeze(1)
    count, slices = hu.shape[0], hu.shape[1]
    if windows is None:
        windows = torch.tensor([[c, w] for _, c, w in config.windows], dtype=hu.dtype, device=hu.device)
        windows = windows.expand(count, 3, 2)
    center = windows[..., 0].reshape(-1, 1, 3, 1, 1)
    width = windows[..., 1].reshape(-1, 1, 3, 1, 1)
    scaled = ((hu.unsqueeze(2) - (center - width / 2)) / width).clamp_(0.0, 1.0)
    mean = torch.tensor(config.mean, dtype=hu.dtype, device=hu.device).reshape(1, 1, 3, 1, 1)
    std = torch.tensor(config.std, dtype=hu.dtype, device=hu.device).reshape(1, 1, 3, 1, 1)
    return ((scaled - mean) / std).reshape(count, 3 * slices, *hu.shape[2:])


def slice_spacing(volume) -> tuple[float, float] | None:
    """In-plane (row, col) spacing in mm, or None when the volume does not know it."""
    row, col = float(volume.spacing[1]), float(volume.spacing[2])
    return (row, col) if row > 0 and col > 0 else None


def hu_slices(volume, indices, config: ModelConfig) -> tuple[np.ndarray, SliceGeometry]:
    """The chosen slices of `volume` on the model canvas, in HU: float32 [n, S, S], or [n, C, S, S] with
    each slice's neighbours when the model looks at context slices (see context_planes).

    Image stacks ("display" units) have no HU: they go through `image_slices_map`. A CT's values are HU already,
    calibrated when it was opened (core.io.grey_values).
    """
    height, width = volume.shape[1], volume.shape[2]
    geometry = SliceGeometry.for_slice(height, width, slice_spacing(volume), config)
    planes = 1 + 2 * config.context_slices
    out = np.empty((len(indices), planes, config.input_size, config.input_size), dtype=np.float32)
    grey = image_slices_map(volume, config)
    for n, index in enumerate(indices):
        for plane, values in enumerate(context_planes(volume, index, config)):
            out[n, plane] = geometry.to_model(values if grey is None else grey(values), fill=AIR_HU)
    return (out[:, 0] if planes == 1 else out), geometry


def context_planes(volume, index: int, config: ModelConfig) -> list[np.ndarray]:
    """Slice `index`, then its neighbours at -d, +d, -2d, +2d ... mm (d = config.context_mm), interpolated
    linearly between slices, so that a 1 mm and a 3 mm scan give the network the same anatomy
    (docs/decisions/122). Unknown slice spacing (none recorded, or 0): d is one slice. Beyond the ends: the end
    slice."""
    planes = [volume.hu[index]]
    spacing = float(volume.spacing[0])
    step = config.context_mm / spacing if volume.spacing_known and spacing > 0 else 1.0
    last = volume.num_slices - 1
    for distance in range(1, config.context_slices + 1):
        for sign in (-1, 1):
            position = min(max(index + sign * distance * step, 0.0), float(last))
            low = int(np.floor(position))
            high, fraction = min(low + 1, last), position - low
            below = np.asarray(volume.hu[low], np.float32)
            planes.append(below if fraction == 0 else (1 - fraction) * below
                          + fraction * np.asarray(volume.hu[high], np.float32))
    return planes
