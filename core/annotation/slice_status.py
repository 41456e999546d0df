"""Per-slice annotation status: what a slice holds and whether it counts as training data."""
from __future__ import annotations

from enum import Enum


class SliceStatus(str, Enum):
    """EMPTY: nothing yet. PREDICTED: a model's mask, not checked by a human.
    EDITED: a human changed it (or imported human labels). REVIEWED: a human approved it.
    INTERPOLATED: filled between a person's slices by interpolation, not looked at since.
    PROPAGATED: carried from a person's slice along the bone by propagation, not looked at since.
    Only EDITED and REVIEWED slices are training data; an interpolated or propagated ("carried") slice becomes
    training data when a person edits it (EDITED) or marks it reviewed.
    """

    EMPTY = "empty"
    PREDICTED = "predicted"
    EDITED = "edited"
    REVIEWED = "reviewed"
    INTERPOLATED = "interpolated"
    PROPAGATED = "propagated"

    @property
    def is_training_data(self) -> bool:
        return self in (SliceStatus.EDITED, SliceStatus.REVIEWED)

    @property
    def is_carried(self) -> bool:
        """Made by the program from a person's slices (interpolation, propagation), not looked at since."""
        return self in (SliceStatus.INTERPOLATED, SliceStatus.PROPAGATED)
