"""The case-wide history: one entry per user action, undone and redone whole, whatever slice is on screen.

An entry is what one action did to the case: for every slice it changed, the core MaskChange (pixels, human-edited
flags, the annotation's source) and the slice's status, confidence and content version before and after, so undo
and redo put back exactly what was there, "saved" included (a slice whose version is back at the version on disk
is saved again). A multi-slice run (interpolation, propagation, Segment Whole Case, a 3-D click) is ONE entry,
also when its slices arrive one by one; a prediction and its later revision by the whole-run clean-up merge.

The history is linear, like 3D Slicer's and ITK-SNAP's: undo takes back the latest entry, redo re-applies the
latest undone one, and a new entry drops what was undone. `core.workspace.open_case.OpenCase` applies the entries
(it owns statuses, confidences and versions); this module only keeps them in order (docs/decisions/181).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.annotation.edits import MaskChange, merge_changes
from core.annotation.slice_status import SliceStatus


@dataclass(frozen=True)
class SliceState:
    """What the open case records about a slice besides its annotation."""

    status: SliceStatus
    confidence: float | None
    version: int  # the content version; equal to the saved version means saved


@dataclass
class SliceEdit:
    """One slice's part of an entry: its annotation change (None: only the status changed) and states."""

    index: int
    change: MaskChange | None
    before: SliceState
    after: SliceState

    def add(self, change: MaskChange | None, mask: np.ndarray, edited: np.ndarray, after: SliceState) -> None:
        """A later change of the same slice within the same entry; `mask`/`edited` are the slice's state now."""
        if change is not None:
            self.change = change if self.change is None else merge_changes(self.change, change, mask, edited)
        self.after = after


@dataclass
class HistoryEntry:
    """One user action: its text ("Interpolate", "Paint") and the slices it changed, in the order it changed
    them."""

    text: str
    edits: dict[int, SliceEdit] = field(default_factory=dict)

    @property
    def indexes(self) -> list[int]:
        return sorted(self.edits)

    def label(self) -> str:
        """What the History list shows: the text and the slice numbers a user sees (from 1)."""
        return f"{self.text} — {slice_range(self.indexes)}" if self.edits else self.text


def slice_range(indexes: list[int]) -> str:
    """Slice numbers as users see them (from 1): 'slice 7', 'slices 41–49' or 'slices 3, 9 (2)'."""
    numbers = sorted(i + 1 for i in indexes)
    if not numbers:
        return "no slice"
    if len(numbers) == 1:
        return f"slice {numbers[0]}"
    if numbers[-1] - numbers[0] + 1 == len(numbers):
        return f"slices {numbers[0]}–{numbers[-1]}"
    shown = ", ".join(str(n) for n in numbers[:3]) + (", …" if len(numbers) > 3 else "")
    return f"slices {shown} ({len(numbers)})"


Listener = Callable[[], None]


class CaseHistory:
    """The entries of one open case in order, and how many of them are applied (`position`)."""

    def __init__(self) -> None:
        self._entries: list[HistoryEntry] = []
        self._position = 0
        self._listeners: list[Listener] = []

    @property
    def entries(self) -> tuple[HistoryEntry, ...]:
        return tuple(self._entries)

    @property
    def position(self) -> int:
        """How many entries are applied: entries[:position] are done, the rest were undone (redo brings them)."""
        return self._position

    @property
    def can_undo(self) -> bool:
        return self._position > 0

    @property
    def can_redo(self) -> bool:
        return self._position < len(self._entries)

    def next_undo(self) -> HistoryEntry | None:
        return self._entries[self._position - 1] if self.can_undo else None

    def next_redo(self) -> HistoryEntry | None:
        return self._entries[self._position] if self.can_redo else None

    def push(self, entry: HistoryEntry) -> None:
        """A new action, already applied: it becomes the latest entry and what was undone is dropped."""
        del self._entries[self._position:]
        self._entries.append(entry)
        self._position += 1
        self.changed()

    def step_back(self) -> HistoryEntry:
        """The entry to undo, counted as undone (the caller reverts it)."""
        if not self.can_undo:
            raise IndexError("nothing to undo")
        self._position -= 1
        self.changed()
        return self._entries[self._position]

    def step_forward(self) -> HistoryEntry:
        """The entry to redo, counted as done (the caller re-applies it)."""
        if not self.can_redo:
            raise IndexError("nothing to redo")
        self._position += 1
        self.changed()
        return self._entries[self._position - 1]

    def add_listener(self, listener: Listener) -> None:
        """`listener()` after every push, undo, redo, and when an entry grows (a run's next slice)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            listener()
