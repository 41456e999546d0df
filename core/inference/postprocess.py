"""Optional clean-up of predicted masks: drop tiny islands, fill enclosed holes.

Islands are judged relative to the largest piece (the mandible is one bone): a connected
component smaller than `min_fraction` of the largest is dropped, in 3-D for a volume and in
2-D for a single slice. Holes are filled slice by slice (an axial mandible section has none).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation import morphology

MIN_FRACTION = 0.02


def drop_small_islands(mask: np.ndarray, min_fraction: float = MIN_FRACTION) -> np.ndarray:
    """Keep components at least `min_fraction` of the largest (full connectivity, 2-D or 3-D)."""
    structure = ndimage.generate_binary_structure(mask.ndim, mask.ndim)
    components, count = ndimage.label(mask > 0, structure=structure)
    if count <= 1:
        return (mask > 0).astype(np.uint8)
    sizes = np.bincount(components.ravel())[1:]
    keep = np.flatnonzero(sizes >= min_fraction * sizes.max()) + 1
    return np.isin(components, keep).astype(np.uint8)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes enclosed within each slice (works on [H, W] or [N, H, W])."""
    if mask.ndim == 2:
        return morphology.fill_holes(mask > 0)
    return np.stack([morphology.fill_holes(m > 0) for m in mask])


def clean_mask(mask: np.ndarray, min_fraction: float = MIN_FRACTION) -> np.ndarray:
    return fill_holes(drop_small_islands(mask, min_fraction))
