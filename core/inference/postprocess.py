"""The one post-processing policy every prediction goes through: `predict`, `evaluate`, the app's Segment and
the smoke test (docs/decisions/144).

Per slice, as the network's probability arrives on the CT's own grid:
  1. refinement turns the probability into a mask. With `refine` on, native-resolution refinement
     (core/inference/refine.py, being written alongside) belongs here; until it lands both settings take
     probability > THRESHOLD, so `--no-refine` changes nothing yet;
  2. holes enclosed within the slice are filled (an axial section of the mandible has none).
When every slice asked for has been predicted:
  3. small islands are dropped in 3-D: a connected piece smaller than MIN_FRACTION of the largest piece of
     its run of adjacent slices goes (for a single slice that is the 2-D rule). A volume that does not know
     its slice spacing (a Labelme folder of chosen slices) has no adjacent slices: each is judged alone.
`clean` off (--no-postprocess) leaves out steps 2 and 3.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.annotation import morphology

MIN_FRACTION = 0.02
THRESHOLD = 0.5


@dataclass(frozen=True)
class PredictionPolicy:
    refine: bool = True  # native-resolution refinement (--no-refine, the app's setting)
    clean: bool = True  # fill holes, drop small 3-D islands (--no-postprocess)


def slice_masks(hu: np.ndarray, probability: np.ndarray, spacing, units: str,
                policy: PredictionPolicy) -> np.ndarray:
    """Steps 1-2 for n consecutive slices: hu and probability float32 [n, rows, cols] -> uint8 masks."""
    if policy.refine:
        masks = _refined(hu, probability, spacing, units)
    else:
        masks = (probability > THRESHOLD).astype(np.uint8)
    return fill_holes(masks) if policy.clean else masks


def _refined(hu: np.ndarray, probability: np.ndarray, spacing, units: str) -> np.ndarray:
    """The seam for core.inference.refine.refine_masks(hu, probability, spacing, units): one line when it lands."""
    return (probability > THRESHOLD).astype(np.uint8)


def whole_run_masks(masks: Mapping[int, np.ndarray], adjacent: bool,
                    policy: PredictionPolicy) -> dict[int, np.ndarray]:
    """Step 3 over every predicted slice {index: mask}: the new masks of the slices it changes."""
    if not policy.clean:
        return {}
    changed = {}
    for run in runs(sorted(masks), adjacent):
        kept = drop_small_islands(np.stack([masks[i] for i in run]))
        changed.update({i: new for i, new in zip(run, kept) if not np.array_equal(new, masks[i])})
    return changed


def runs(indexes: Sequence[int], adjacent: bool) -> list[list[int]]:
    """Sorted indexes grouped into runs of consecutive slices (each alone when slices are not adjacent)."""
    groups: list[list[int]] = []
    for index in indexes:
        if adjacent and groups and index == groups[-1][-1] + 1:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


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
