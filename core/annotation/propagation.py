"""Carry a corrected slice's mask up or down the stack, each new slice following the bone in that slice.

For each next slice the previous slice's mask is the prior. The new mask is the bone of this slice
(HU >= hu_min, or the network's probability >= 0.5 where a probability map is given) that lies
within `reach_mm` of the prior and is connected to what overlaps the prior; enclosed marrow is filled.
So the mask grows and shrinks along the bone edge by at most `reach_mm` per slice, and does not jump
to other bone that merely lies nearby.

It stops, and says why, when:
  * the bone ends: the new area is below `min_area_ratio` of the prior (the mask collapses);
  * it leaks: the new area is above `max_area_ratio` of the prior (it ran into touching bone);
  * the next slice may not be overwritten (edited or reviewed: the caller passes which may be);
  * the stack ends, or `cancel` is set.

`propagate` is a generator: it yields each slice's proposed mask as soon as it is computed, so a
GUI can preview it and stop; nothing is written anywhere. Its return value (StopIteration.value)
is the reason it stopped, with slice numbers as users see them (index + 1, decision 143);
`propagate_all` collects everything.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.annotation.morphology import fill_holes

_EIGHT = np.ones((3, 3), dtype=bool)

# Network probability per slice index, [row, col] in 0..1, or None where there is none.
ProbabilitySource = Callable[[int], "np.ndarray | None"]


@dataclass(frozen=True)
class PropagationSettings:
    """How a mask follows the bone from slice to slice."""

    hu_min: float = 250.0  # bone threshold (the brush's default)
    # How far the mask may grow beyond the prior per slice; never less than one pixel.
    reach_mm: float = 1.5
    min_area_ratio: float = 0.35  # a region below this fraction of its prior's area has ended
    # A region whose bone carries on past the reach along more than this fraction of its outline
    # has run into touching bone (the condyle into the skull base).
    max_cut_fraction: float = 0.25


@dataclass(frozen=True)
class PropagatedSlice:
    index: int
    mask: np.ndarray  # uint8 0/1 [row, col]


@dataclass(frozen=True)
class Propagation:
    """Everything a propagation proposed, and why it stopped."""

    slices: tuple[PropagatedSlice, ...]
    reason: str

    def masks(self) -> dict[int, np.ndarray]:
        return {s.index: s.mask for s in self.slices}


def follow_bone(prior: np.ndarray, hu: np.ndarray, pixel_spacing, settings: PropagationSettings,
                probability: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """The mask on a slice given its neighbour's mask `prior`, region by region, and what ended.

    Each 8-connected region of the prior is followed on its own: the bone within reach that is
    connected to it. A region whose area collapses has ended; one cut off by the reach along more
    than `max_cut_fraction` of its outline (the bone carries on past it) has run into touching
    bone. Either is left out of the result, and named in the returned list of notes.
    """
    prior = np.asarray(prior) > 0
    bone = np.asarray(hu) >= settings.hu_min
    if probability is not None:
        bone |= np.asarray(probability) >= 0.5
    reach_mm = max(settings.reach_mm, *pixel_spacing)
    reach = ndimage.distance_transform_edt(~prior, sampling=pixel_spacing) <= reach_mm
    candidate = bone & reach
    beyond = ndimage.binary_dilation(bone & ~reach)  # where bone carries on past the reach
    labels, _ = ndimage.label(candidate, structure=_EIGHT)
    regions, count = ndimage.label(prior, structure=_EIGHT)
    result = np.zeros(prior.shape, bool)
    notes = []
    for region_id in range(1, count + 1):
        region = regions == region_id
        touching = np.unique(labels[region & candidate])
        followed = fill_holes(np.isin(labels, touching[touching > 0])).astype(bool) & reach
        outline = max(int((region & ~ndimage.binary_erosion(region)).sum()), 1)
        if followed.sum() < settings.min_area_ratio * region.sum():
            notes.append("ended")
        elif (followed & beyond).sum() > settings.max_cut_fraction * outline:
            notes.append("ran into touching bone")
        else:
            result |= followed
    return result.astype(np.uint8), notes


def propagate(hu: np.ndarray, start_index: int, start_mask: np.ndarray, step: int,
              may_overwrite: Collection[int], pixel_spacing=(1.0, 1.0),
              settings: PropagationSettings = PropagationSettings(),
              probability: ProbabilitySource | None = None,
              cancel: threading.Event | None = None) -> Iterator[PropagatedSlice]:
    """From `start_index` (whose mask is `start_mask`) toward slice index + `step` (+1 or -1).

    `hu` is the CT [slice, row, col]. Only slices in `may_overwrite` are proposed; the first one
    that is not stops the propagation. Returns (as StopIteration.value) the reason it stopped.
    """
    if step not in (1, -1):
        raise ValueError("step must be +1 (toward the feet) or -1 (toward the head)")
    allowed = {int(i) for i in may_overwrite}
    prior = np.asarray(start_mask) > 0
    if not prior.any():
        return f"slice {start_index + 1} has no mask to propagate"
    index = int(start_index)
    while True:
        index += step
        if cancel is not None and cancel.is_set():
            return "stopped"
        if not 0 <= index < hu.shape[0]:
            return "reached the end of the CT"
        if index not in allowed:
            return (f"slice {index + 1} is kept (a person edited or reviewed it, or it holds a prediction "
                    "that may not be replaced)")
        prob = probability(index) if probability is not None else None
        mask, notes = follow_bone(prior, hu[index], pixel_spacing, settings, prob)
        if not mask.any():
            if "ran into touching bone" in notes:
                return f"the mandible runs into other bone at slice {index + 1}; continue by hand"
            return f"the bone ends at slice {index + 1}"
        yield PropagatedSlice(index, mask)
        prior = mask > 0


def propagate_all(*args, **kwargs) -> Propagation:
    """Run `propagate` to its end; the same arguments."""
    slices = []
    generator = propagate(*args, **kwargs)
    while True:
        try:
            slices.append(next(generator))
        except StopIteration as stop:
            return Propagation(tuple(slices), str(stop.value))
