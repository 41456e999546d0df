"""Per-slice annotation status: what a slice holds and whether it counts as training data."""
from __future__ import annotations

from enum import Enum


class SliceStatus(str, Enum):
    """EMPTY: nothing yet. PREDICTED: a model's mask, not checked by a human.
    EDITED: a human changed it (or imported human labels). REVIEWED: a human approved it.
    Only EDITED and REVIEWED slices are training data.
    """

    EMPTY = "empty"
    PREDICTED = "predicted"
    EDITED = "edited"
    REVIEWED = "reviewed"

    @property
    def is_training_data(self) -> bool:
        return self in (SliceStatus.EDITED, SliceStatus.REVIEWED)
