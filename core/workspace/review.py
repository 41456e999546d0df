"""The review loop over a case, without Qt: in which order to check the model's predictions (U), and which slices
a filter of the slice list shows.

U visits the predicted slices from the one the model was least sure about up, across the whole case, each once
per pass (`ReviewPass`); a slice a person edits or reviews leaves the order. When every slice of the order was
visited, the next U starts a new pass from the least sure again (docs/decisions/183).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from core.annotation.slice_status import SliceStatus

# Below this confidence a prediction counts as "low confidence" in the slice list's filter.
LOW_CONFIDENCE = 0.5


def review_order(statuses: Sequence[SliceStatus], confidences: Mapping[int, float]) -> list[int]:
    """The PREDICTED slices that have a confidence, the least sure first (ties: lower slice first)."""
    return [i for _, i in sorted((c, i) for i, c in confidences.items()
                                 if 0 <= i < len(statuses) and statuses[i] is SliceStatus.PREDICTED)]


class ReviewPass:
    """Which predicted slices U has shown in this pass."""

    def __init__(self) -> None:
        self._visited: set[int] = set()

    def next(self, order: Sequence[int], current: int) -> tuple[int | None, bool]:
        """(the slice U goes to, whether a new pass started); None when no slice is left to check.

        The current slice counts as visited: the user is looking at it."""
        if current in order:
            self._visited.add(current)
        remaining = [i for i in order if i not in self._visited]
        if remaining:
            return remaining[0], False
        self._visited = {current} if current in order else set()
        remaining = [i for i in order if i not in self._visited]
        return (remaining[0], True) if remaining else (None, False)


class SliceFilter(str, Enum):
    """What the slice list shows."""

    ALL = "All slices"
    PREDICTED = "Predicted"
    INTERPOLATED = "Interpolated"
    PROPAGATED = "Propagated"
    LOW_CONFIDENCE = "Low confidence"
    NOT_REVIEWED = "Not reviewed"

    def shows(self, status: SliceStatus, confidence: float | None) -> bool:
        """Whether a slice with this status (and confidence of its prediction) is listed.

        Not reviewed: what the program made and no person has checked yet (predicted, interpolated, propagated).
        Low confidence: predictions the model was less than LOW_CONFIDENCE sure about."""
        if self is SliceFilter.ALL:
            return True
        if self is SliceFilter.NOT_REVIEWED:
            return status is SliceStatus.PREDICTED or status.is_carried
        if self is SliceFilter.LOW_CONFIDENCE:
            return status is SliceStatus.PREDICTED and confidence is not None and confidence < LOW_CONFIDENCE
        return status is {SliceFilter.PREDICTED: SliceStatus.PREDICTED, SliceFilter.INTERPOLATED:
                          SliceStatus.INTERPOLATED, SliceFilter.PROPAGATED: SliceStatus.PROPAGATED}[self]
