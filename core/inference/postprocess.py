"""The one post-processing policy every prediction goes through: `predict`, `evaluate`, the app's Segment and
the smoke test (docs/decisions/144).

Per slice, as the network's probability arrives on the CT's own grid:
  1. refinement turns the probability into a mask. With `refine` on, native-resolution refinement
     (core/inference/refine.py, docs/decisions/130) redraws it along the bone the CT shows; off
     (--no-refine, the app's setting), the mask is probability > THRESHOLD. Refinement passes image stacks,
     volumes whose spacing is unknown and coarse CTs (OpenKBP's 4 mm) through at THRESHOLD;
  2. holes enclosed within the slice are filled (an axial section of the mandible has none).
When every slice asked for has been predicted, per run of adjacent slices:
  1-2 again over the whole run at once, when refinement is on: it follows bone from slice to slice, which
     brings back the condyles, coronoid processes and rami the network misses; a slice refined alone cannot;
  3. small islands are dropped in 3-D: a connected piece smaller than MIN_FRACTION of the largest piece of
     its run of adjacent slices goes (for a single slice that is the 2-D rule). A volume that does not know
     its slice spacing (a Labelme folder of chosen slices) has no adjacent slices: each is judged alone.
`clean` off (--no-postprocess) leaves out steps 2 and 3.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.annotation import morphology
from core.inference.refine import refine_masks

MIN_FRACTION = 0.02
THRESHOLD = 0.5
# A run's slice indexes -> its masks from steps 1-2 over the whole run at once.
RunMasks = Callable[[list[int]], np.ndarray]


@dataclass(frozen=True)
class PredictionPolicy:
    refine: bool = True  # native-resolution refinement (--no-refine, the app's setting)
    clean: bool = True  # fill holes, drop small 3-D islands (--no-postprocess)


def slice_masks(hu: np.ndarray, probability: np.ndarray, spacing, units: str,
                policy: PredictionPolicy, network_mm: float = 4.0) -> np.ndarray:
    """Steps 1-2 for n consecutive slices: hu and probability float32 [n, rows, cols] -> uint8 masks.

    `spacing` is None when the volume does not know it; `network_mm` is the model's millimetres per pixel."""
    if policy.refine:
        masks = refine_masks(hu, probability, spacing, units, network_mm)
    else:
        masks = (probability > THRESHOLD).astype(np.uint8)
    return fill_holes(masks) if policy.clean else masks


def volume_masks(volume, probability: np.ndarray, policy: PredictionPolicy, network_mm: float = 4.0) -> np.ndarray:
    """Every step of the policy over a whole volume at once, from the network's probability on its own grid
    (float32 [slice, row, col]): what `Segmenter.predict` gives for every slice, for benchmarks that keep the
    probability and vary the policy."""
    spacing = volume.spacing if volume.spacing_known else None
    masks = slice_masks(volume.hu, probability, spacing, volume.units, policy, network_mm)
    for index, mask in whole_run_masks(dict(enumerate(masks)), float(volume.spacing[0]) > 0, policy).items():
        masks[index] = mask
    return masks


def whole_run_masks(masks: Mapping[int, np.ndarray], adjacent: bool, policy: PredictionPolicy,
                    run_masks: RunMasks | None = None) -> dict[int, np.ndarray]:
    """The whole-run steps over every predicted slice {index: mask}: the new masks of the slices they change.

    `run_masks` (steps 1-2 over a run at once) is called for each run of two or more slices when
    refinement is on; without it, or with refinement off, the slices keep their own steps 1-2."""
    refine = policy.refine and run_masks is not None
    if not (policy.clean or refine):
        return {}
    changed = {}
    for run in runs(sorted(masks), adjacent):
        stack = run_masks(run) if refine and len(run) > 1 else np.stack([masks[i] for i in run])
        kept = drop_small_islands(stack) if policy.clean else stack
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
