"""Per-slice annotation status: what a slice holds and whether it counts as training data."""
from __future__ import annotations

from enum import Enum


class SliceStatus(str, Enum):
    """EMPTY: nothing yet. PREDICTED: a model's mask, not checked by a human.
    EDITED: a human changed it (or imported human labels). REVIEWED: a human approved it.
    INTERPOLATED: carried from a person's slices by interpolation or propagation, not looked at since.
    Only EDITED and REVIEWED slices are training data; an INTERPOLATED slice becomes training data
    when a person edits it (EDITED) or marks it reviewed.
    """

    EMPTY = "empty"
    PREDICTED = "predicted"
    EDITED = "edited"
    REVIEWED = "reviewed"
    INTERPOLATED = "interpolated"

    @property
    def is_training_data(self) -> bool:
        return self in (SliceStatus.EDITED, SliceStatus.REVIEWED)
