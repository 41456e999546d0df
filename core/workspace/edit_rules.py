"""The one rule for what a program-made edit may write over: every door that writes many slices asks it.

A person's own edit of a slice (a tool stroke, a polygon, seeded fill, R) is never refused. Everything the
program makes from a model or from a person's slices is an `EditKind`: a prediction (Segment This Slice, Segment
Whole Case, batch segmentation), an interpolation, a propagation, a 3-D click correction. Whether it may write a
slice depends only on the kind, what the slice holds now and what the user allowed (`Allow`):

    slice holds               PREDICTION     INTERPOLATION, PROPAGATION     CLICK
    nothing (EMPTY)           yes            yes                            yes
    a prediction, no mandible yes            yes                            yes
    a prediction of mandible  yes            allow.predicted                yes
    interpolated, propagated  allow.carried  yes                            yes
    edited, reviewed          allow.human    never                          allow.human

and never a slice on which a brush stroke is being painted. `may_write` is that table;
`core.workspace.open_case.OpenCase.targets` asks it for a whole case (docs/decisions/180).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.annotation.slice_status import SliceStatus


class EditKind(str, Enum):
    """What made a multi-slice change; the status a slice it writes gets is `status`."""

    PREDICTION = "prediction"
    INTERPOLATION = "interpolation"
    PROPAGATION = "propagation"
    CLICK = "click"  # a 3-D click correction: a person's edit carried over the slices it spans

    @property
    def status(self) -> SliceStatus:
        return {EditKind.PREDICTION: SliceStatus.PREDICTED, EditKind.INTERPOLATION: SliceStatus.INTERPOLATED,
                EditKind.PROPAGATION: SliceStatus.PROPAGATED, EditKind.CLICK: SliceStatus.EDITED}[self]


@dataclass(frozen=True)
class Allow:
    """What the user allowed beyond the default (each is asked in the app before it is set).

    predicted: interpolation and propagation may replace the model's predictions of the mandible
               ("Interpolation and Propagation Replace Predicted Slices");
    carried:   a prediction may replace interpolated and propagated slices (Segment Whole Case asks);
    human:     edited and reviewed slices may be replaced (a prediction or a click; asked first).
    """

    predicted: bool = False
    carried: bool = False
    human: bool = False


def may_write(kind: EditKind, status: SliceStatus, found_mandible: bool, painting: bool,
              allow: Allow = Allow()) -> bool:
    """True when an edit of `kind` may write a slice with `status` (`found_mandible`: its mask is not empty;
    `painting`: a brush stroke is open on it)."""
    if painting:
        return False
    if status is SliceStatus.EMPTY or (status is SliceStatus.PREDICTED and not found_mandible):
        return True
    if status.is_training_data:
        return allow.human and kind in (EditKind.PREDICTION, EditKind.CLICK)
    if status is SliceStatus.PREDICTED:
        return kind in (EditKind.PREDICTION, EditKind.CLICK) or allow.predicted
    return kind is not EditKind.PREDICTION or allow.carried  # interpolated or propagated
