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

Memory (issue 22): the whole-run steps work in the box where a run's masks can be non-zero, never on a stack of
the volume's size, and hand back the revised slices one at a time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.annotation import morphology
from core.inference.refine import Box, RefineSettings, refine_masks, refine_region
from core.inference.slice_crops import SliceCrops

MIN_FRACTION = 0.02
THRESHOLD = 0.5
# The network's probability at or below this is never read (every threshold of refinement is above it).
PROBABILITY_FLOOR = min(RefineSettings().follow_probability, RefineSettings().band_probability, THRESHOLD) / 2
# A run's slice indexes -> its masks from steps 1-2 over the whole run at once: (box, uint8 masks of the box),
# None when they are empty.
RunMasks = Callable[[list[int]], "tuple[Box, np.ndarray] | None"]


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


def region_masks(hu: np.ndarray, probability, spacing, units: str, policy: PredictionPolicy,
                 network_mm: float = 4.0) -> tuple[Box, np.ndarray] | None:
    """Steps 1-2 for a run of slices at once, only in the box where masks can be (refinement on).

    `probability` is an array or a stack-like SliceCrops window; returns (box, uint8 masks of the box), None
    when every mask is empty. Holes are filled in the box: outside it every pixel is background."""
    region = refine_region(hu, probability, spacing, units, network_mm)
    if region is not None and policy.clean:
        for plane in region[1]:
            plane[...] = morphology.fill_holes(plane > 0)
    return region


def volume_masks(volume, probability: np.ndarray, policy: PredictionPolicy, network_mm: float = 4.0) -> np.ndarray:
    """Every step of the policy over a whole volume at once, from the network's probability on its own grid
    (float32 [slice, row, col]): what `Segmenter.predict` gives for every slice, for benchmarks that keep the
    probability and vary the policy."""
    spacing = volume.spacing if volume.spacing_known else None
    masks = slice_masks(volume.hu, probability, spacing, volume.units, policy, network_mm)
    kept = SliceCrops(masks.shape, np.uint8)
    for index, mask in enumerate(masks):
        kept.put(index, mask)
    for index, mask in whole_run_masks(kept, range(len(masks)), float(volume.spacing[0]) > 0, policy):
        masks[index] = mask
    return masks


def whole_run_masks(masks: SliceCrops, indexes: Sequence[int], adjacent: bool, policy: PredictionPolicy,
                    run_masks: RunMasks | None = None, singles_done: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """The whole-run steps over the predicted slices `indexes`, whose masks from steps 1-2 are in `masks`:
    (index, new mask) of each slice they change, one at a time.

    `run_masks` (steps 1-2 over a run at once) is called for each run when refinement is on, except for a run
    of one slice when `singles_done` (that slice's own steps 1-2 were already the run's); without it, or with
    refinement off, the slices keep their own steps 1-2."""
    refine = policy.refine and run_masks is not None
    if not (policy.clean or refine):
        return
    for run in runs(sorted(indexes), adjacent):
        if refine and (len(run) > 1 or not singles_done):
            region = run_masks(run)
        else:
            region = masks.region(run)
        region = _tight(region)
        if region is not None and policy.clean:
            region = region[0], drop_small_islands(region[1])
        for index in run:
            new = _slice_of(region, index, masks.shape[1:])
            if not np.array_equal(new, masks[index]):
                yield index, new


def _tight(region: tuple[Box, np.ndarray] | None) -> tuple[Box, np.ndarray] | None:
    """The region cut down to the bounding box of its non-zero voxels (None when there are none): the 3-D
    labelling of small islands then costs the mandible's box, not the box refinement could reach."""
    if region is None:
        return None
    box, stack = region
    extent = [np.flatnonzero(stack.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1))]
    if extent[0].size == 0:
        return None
    inner = tuple(slice(e[0], e[-1] + 1) for e in extent)
    outer = tuple(slice(b.start + i.start, b.start + i.stop) for b, i in zip(box, inner))
    return outer, stack[inner]


def _slice_of(region: tuple[Box, np.ndarray] | None, index: int, shape: tuple[int, int]) -> np.ndarray:
    """Slice `index` of a region's masks on the whole slice grid (uint8, zeros outside the box)."""
    plane = np.zeros(shape, np.uint8)
    if region is not None:
        (slices, rows, cols), stack = region
        if slices.start <= index < slices.stop:
            plane[rows, cols] = stack[index - slices.start]
    return plane


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
    components, count = ndimage.label(mask, structure=structure)  # non-zero is foreground: no boolean copy
    if count <= 1:
        return (mask > 0).astype(np.uint8)
    sizes = np.bincount(components.ravel())[1:]
    kept = np.zeros(count + 1, np.uint8)  # a lookup by component: one uint8 result, no boolean temporaries
    kept[1:] = sizes >= min_fraction * sizes.max()
    return kept[components]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes enclosed within each slice (works on [H, W] or [N, H, W])."""
    if mask.ndim == 2:
        return morphology.fill_holes(mask > 0)
    return np.stack([morphology.fill_holes(m > 0) for m in mask])
