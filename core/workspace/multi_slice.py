"""Changes of many slices at once on the open case: interpolation between a person's slices and
propagation of a corrected slice up or down the stack (core/annotation/interpolation.py, propagation.py).

Both only ever write slices a person has not made their own: EMPTY and INTERPOLATED slices, predictions in
which the model found no mandible, and the model's other predictions when the user allows it
(`replace_predicted`). EDITED and REVIEWED slices are the anchors and are never
written. What they write becomes INTERPOLATED (`OpenCase.carry`): not training data until a person edits or
reviews it. Each function returns the changes it applied, so the GUI can make them one undo step.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from core.annotation.edits import MaskChange
from core.annotation.interpolation import interpolate_between_anchors
from core.annotation.propagation import PropagatedSlice, PropagationSettings, propagate
from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.workspace.open_case import OpenCase

Applied = list[tuple[int, SliceAnnotation, MaskChange]]


def writable_slices(case: OpenCase, replace_predicted: bool) -> set[int]:
    """The slices a multi-slice change may write: EMPTY, INTERPOLATED, PREDICTED where the model found no
    mandible, and any PREDICTED one when `replace_predicted`."""
    def writable(index: int) -> bool:
        status = case.status(index)
        if status is SliceStatus.PREDICTED:
            return replace_predicted or not case.found_mandible(index)
        return status in (SliceStatus.EMPTY, SliceStatus.INTERPOLATED)

    return {i for i in range(case.num_slices) if writable(i) and not case.keeps(i)}


def anchors(case: OpenCase) -> list[int]:
    """The slices a person made their own (EDITED, REVIEWED): where interpolation starts and ends."""
    return case.training_slices()


def anchors_around(case: OpenCase, index: int) -> list[int]:
    """The nearest anchors below and above `index` (and `index` itself when it is one); every anchor when
    `index` is not between two of them."""
    every = anchors(case)
    below = [a for a in every if a < index]
    above = [a for a in every if a > index]
    chosen = ([below[-1]] if below else []) + ([index] if index in every else []) + ([above[0]] if above else [])
    return chosen if len(chosen) >= 2 else every


def interpolate(case: OpenCase, around: int | None = None, replace_predicted: bool = False) -> Applied:
    """Fill the gaps between anchors (those around slice `around`, or all) and apply the result."""
    chosen = anchors(case) if around is None else anchors_around(case, around)
    masks = {i: case.annotation(i).mask for i in chosen}
    spacing = case.volume.spacing[1:]
    filled = interpolate_between_anchors(masks, chosen, writable_slices(case, replace_predicted), spacing)
    return apply(case, filled)


def apply(case: OpenCase, masks: dict[int, np.ndarray]) -> Applied:
    """Carry each mask onto its slice (OpenCase.carry); the changes applied, in slice order."""
    applied = []
    for index in sorted(masks):
        change = case.carry(index, masks[index])
        if change is not None:
            applied.append((index, case.annotation(index), change))
    return applied


def propagation(case: OpenCase, start: int, step: int, replace_predicted: bool = False,
                settings: PropagationSettings = PropagationSettings(),
                cancel: threading.Event | None = None) -> Iterator[PropagatedSlice]:
    """The proposals of propagating slice `start` toward start + step, one slice at a time (nothing is
    applied; `apply` does that). Safe to run in a worker thread: it reads copies and the read-only CT.
    Returns (StopIteration.value) why it stopped."""
    start_mask = case.annotation(start).mask.copy()
    allowed = writable_slices(case, replace_predicted)
    return propagate(case.volume.hu, start, start_mask, step, allowed, case.volume.spacing[1:], settings,
                     cancel=cancel)
