"""CT-aware augmentation of one training slice on the model canvas (HU + mask).

Geometry: small rotation and scale about the centre and a left-right flip (mask follows,
nearest neighbour). Intensity: a small HU gain and offset, Gaussian noise, and jitter of each
window's centre and width (applied later, when the windows are computed).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.inference.preprocess import AIR_HU


@dataclass(frozen=True)
class Augmentation:
    rotation_deg: float = 10.0
    scale: float = 0.1  # zoom factor drawn from [1 - scale, 1 + scale]
    flip: bool = True
    gain: float = 0.05  # HU multiplied by [1 - gain, 1 + gain]
    offset_hu: float = 30.0
    noise_hu: float = 20.0  # noise sigma drawn from [0, noise_hu]
    window_jitter: float = 0.1  # window centre moved and width scaled by up to this fraction of the width

    def apply(self, hu: np.ndarray, label: np.ndarray, windows: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Augmented copies of (hu [S,S] float32, label [S,S] uint8, windows [3,2] center/width)."""
        size = hu.shape[0]
        angle = rng.uniform(-self.rotation_deg, self.rotation_deg)
        zoom = rng.uniform(1.0 - self.scale, 1.0 + self.scale)
        matrix = cv2.getRotationMatrix2D(((size - 1) / 2.0, (size - 1) / 2.0), angle, zoom)
        hu = cv2.warpAffine(hu, matrix, (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=AIR_HU)
        label = cv2.warpAffine(label, matrix, (size, size), flags=cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if self.flip and rng.random() < 0.5:
            hu, label = hu[:, ::-1], label[:, ::-1]
        hu = hu * rng.uniform(1.0 - self.gain, 1.0 + self.gain) + rng.uniform(-self.offset_hu, self.offset_hu)
        hu = hu + rng.normal(0.0, rng.uniform(0.0, self.noise_hu), hu.shape)
        jitter = rng.uniform(-self.window_jitter, self.window_jitter, size=(3, 2))
        windows = windows.copy()
        windows[:, 0] += jitter[:, 0] * windows[:, 1]
        windows[:, 1] *= 1.0 + jitter[:, 1]
        return np.ascontiguousarray(hu, dtype=np.float32), np.ascontiguousarray(label), windows
