"""Changes of many slices at once on the open case: interpolation between a person's slices and
propagation of a corrected slice up or down the stack (core/annotation/interpolation.py, propagation.py).

Which slices they may write is the one rule of core/workspace/edit_rules.py (`OpenCase.targets`): empty,
interpolated and propagated slices, predictions in which the model found no mandible, the model's other
predictions when the user allows it (`Allow(predicted=True)`), never an edited or reviewed slice (the anchors).
Interpolation writes INTERPOLATED slices, propagation PROPAGATED ones: not training data until a person edits or
reviews them. Interpolation is one `OpenCase.apply_many`; propagation proposes one slice at a time for a
`CaseRun` (the GUI shows each as it comes); each is one entry of the case-wide history.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from core.annotation.interpolation import interpolate_between_anchors
from core.annotation.propagation import PropagatedSlice, PropagationSettings, propagate
from core.workspace.edit_rules import Allow, EditKind
from core.workspace.open_case import OpenCase


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


def interpolate(case: OpenCase, around: int | None = None, allow: Allow = Allow()) -> list[int]:
    """Fill the gaps between anchors (those around slice `around`, or all) as one history entry; the slices
    written."""
    chosen = anchors(case) if around is None else anchors_around(case, around)
    masks = {i: case.annotation(i).mask for i in chosen}
    writable = set(case.targets(EditKind.INTERPOLATION, allow=allow))
    filled = interpolate_between_anchors(masks, chosen, writable, case.volume.spacing[1:])
    return case.apply_many(filled, EditKind.INTERPOLATION, "Interpolate", allow)


def propagation(case: OpenCase, start: int, step: int, allow: Allow = Allow(),
                settings: PropagationSettings = PropagationSettings(),
                cancel: threading.Event | None = None) -> Iterator[PropagatedSlice]:
    """The proposals of propagating slice `start` toward start + step, one slice at a time (nothing is
    applied; a `CaseRun` of kind PROPAGATION does that). Safe to run in a worker thread: it reads copies and the
    read-only CT. Returns (StopIteration.value) why it stopped."""
    start_mask = case.annotation(start).mask.copy()
    allowed = set(case.targets(EditKind.PROPAGATION, allow=allow))
    return propagate(case.volume.hu, start, start_mask, step, allowed, case.volume.spacing[1:], settings,
                     cancel=cancel)
