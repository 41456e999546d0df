"""Undo records for slice annotations: a change is (region, old pixels, new pixels), never a full copy.

Follows napari's labels layer: each edit stores only the bounding box of the pixels it changed and
their values before and after, so unlimited undo costs memory in proportion to what was edited.
A change also carries the per-pixel "edited by a human" flags and the annotation's source before
and after, so undoing an edit on a predicted slice makes it a clean prediction again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.annotation.slice_status import SliceStatus

Region = tuple[slice, slice]


@dataclass(frozen=True, eq=False)
class MaskChange:
    """One undoable edit of a slice mask.

    bbox: (row slice, col slice) of the region that changed.
    old / new: uint8 mask pixels in that region before and after the edit.
    old_edited / new_edited: bool human-edited flags in that region before and after.
    old_source / new_source: the annotation's source (EMPTY, PREDICTED or EDITED) before and after.
    """

    bbox: Region
    old: np.ndarray
    new: np.ndarray
    old_edited: np.ndarray | None = None
    new_edited: np.ndarray | None = None
    old_source: SliceStatus | None = None
    new_source: SliceStatus | None = None

    def apply(self, mask: np.ndarray, edited: np.ndarray | None = None) -> None:
        """Write the new pixels (and edited flags when given) into full-size arrays, in place."""
        mask[self.bbox] = self.new
        if edited is not None and self.new_edited is not None:
            edited[self.bbox] = self.new_edited

    def revert(self, mask: np.ndarray, edited: np.ndarray | None = None) -> None:
        """Write the old pixels (and edited flags when given) back, in place."""
        mask[self.bbox] = self.old
        if edited is not None and self.old_edited is not None:
            edited[self.bbox] = self.old_edited


def changed_region(before: np.ndarray, after: np.ndarray) -> Region | None:
    """Tightest (row, col) bounding box where two same-shape arrays differ; None when equal."""
    diff = before != after
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def union_region(a: Region | None, b: Region | None) -> Region | None:
    """Smallest box holding both boxes (either may be None)."""
    if a is None:
        return b
    if b is None:
        return a
    return (slice(min(a[0].start, b[0].start), max(a[0].stop, b[0].stop)),
            slice(min(a[1].start, b[1].start), max(a[1].stop, b[1].stop)))


def make_change(old_mask: np.ndarray, new_mask: np.ndarray, old_edited: np.ndarray, new_edited: np.ndarray,
                old_source: SliceStatus, new_source: SliceStatus, within: Region | None = None) -> MaskChange | None:
    """Build the change between two states, cropped to what differs; None when nothing differs.

    `within` restricts the comparison to a box known to hold every difference (a brush footprint),
    which keeps a brush dab on a 512x512 slice from scanning the whole slice.
    """
    origin = (0, 0)
    if within is not None:
        old_mask, new_mask = old_mask[within], new_mask[within]
        old_edited, new_edited = old_edited[within], new_edited[within]
        origin = (within[0].start, within[1].start)
    box = union_region(changed_region(old_mask, new_mask), changed_region(old_edited, new_edited))
    if box is None and old_source == new_source:
        return None
    if box is None:
        box = (slice(0, 0), slice(0, 0))
    full = (slice(box[0].start + origin[0], box[0].stop + origin[0]),
            slice(box[1].start + origin[1], box[1].stop + origin[1]))
    return MaskChange(full, old_mask[box].copy(), new_mask[box].copy(),
                      old_edited[box].copy(), new_edited[box].copy(), old_source, new_source)


def merge_changes(first: MaskChange, second: MaskChange, mask: np.ndarray, edited: np.ndarray) -> MaskChange:
    """One change that does `first` then `second`; `mask` and `edited` are the slice's state after both."""
    box = union_region(_nonempty(first.bbox), _nonempty(second.bbox)) or (slice(0, 0), slice(0, 0))
    origin = (box[0].start, box[1].start)
    new, new_edited = mask[box].copy(), edited[box].copy()
    old, old_edited = new.copy(), new_edited.copy()
    for change in (second, first):  # walk back from the state after both to the state before both
        local = _shifted(change.bbox, origin)
        old[local] = change.old
        if change.old_edited is not None:
            old_edited[local] = change.old_edited
    return MaskChange(box, old, new, old_edited, new_edited, first.old_source, second.new_source)


def _nonempty(region: Region) -> Region | None:
    return region if region[0].stop > region[0].start and region[1].stop > region[1].start else None


def _shifted(region: Region, origin: tuple[int, int]) -> Region:
    return (slice(region[0].start - origin[0], region[0].stop - origin[0]),
            slice(region[1].start - origin[1], region[1].stop - origin[1]))
