"""The case a user works on, without Qt: its annotations, slice statuses, what is unsaved, what waits for
a draft (autosave), the model's predictions with their confidence, and the order to review them in.

Every change of a slice reaches the listeners as one SliceChange: `region` is the box of mask pixels that
changed (an empty box when only the annotation's source changed), None when only the status, the
confidence or the saved state changed. A view repaints just that box.

Rules (docs/decisions/045 and 141):
  * a slice's status follows its annotation's source (EMPTY, PREDICTED, EDITED) after every change,
    except that REVIEWED stays until the user toggles it off;
  * a prediction never replaces a slice a human EDITED or REVIEWED unless asked (`overwrite`), nor a
    slice while a brush stroke is being painted on it;
  * every change makes the slice unsaved and queues it for the next draft; a draft survives a crash,
    a case switch and a restart, a save (Labelme JSON) ends it.

Saving runs in two halves so the writing can happen off the GUI thread: `prepare_save()` (here) takes
copies, `SavePlan.run()` writes them (anywhere), `finish_save()` (here again) marks the slices saved
unless they changed meanwhile.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.annotation.edits import MaskChange, Region
from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.errors import InputError
from core.volume import Volume
from core.windowing import Window
from core.workspace.case_record import CaseRecord
from core.workspace.case_store import CaseContent, CaseStore, Progress, SaveResult, SliceToSave, put_status


@dataclass(frozen=True)
class SliceChange:
    """What changed on one slice; region None: only its status, confidence or saved state."""

    index: int
    region: Region | None = None


Listener = Callable[[SliceChange], None]


@dataclass(frozen=True)
class SavePlan:
    """Copies of the unsaved slices, taken in the thread that edits; `run` may write them from any thread."""

    store: CaseStore
    volume: Volume
    slices: tuple[SliceToSave, ...]
    record: CaseRecord
    window: Window | None
    revisions: dict[int, int]

    @property
    def indexes(self) -> list[int]:
        return [item.index for item in self.slices]

    def run(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> SaveResult:
        return self.store.write_slices(self.volume, self.slices, self.record, self.window, progress, cancel)


class OpenCase:
    """One open case. Build it with `OpenCase(volume, store)`; it reads what the store holds."""

    def __init__(self, volume: Volume, store: CaseStore, content: CaseContent | None = None) -> None:
        content = store.load(volume.shape) if content is None else content
        self.volume, self.store = volume, store
        self.annotations: dict[int, SliceAnnotation] = {}
        self.warnings = list(content.warnings)
        self.pending_drafts: set[int] = set()
        self._statuses = dict(content.statuses)
        self._confidences = dict(content.confidences)
        self._unsaved = set(content.drafts)
        self._revisions: dict[int, int] = {}
        self._listeners: list[Listener] = []
        self._slice_listeners: dict[int, Callable] = {}
        self._last_slice = min(max(store.record.last_slice, 0), volume.num_slices - 1)
        self._window = Window(*store.record.window) if store.record.window else None
        self._record_changed = content.record_changed
        for index, annotation in content.annotations.items():
            self._adopt(index, annotation)

    # -- reading -------------------------------------------------------------------------------
    @property
    def num_slices(self) -> int:
        return self.volume.num_slices

    @property
    def record(self) -> CaseRecord:
        return self.store.record

    def annotation(self, index: int) -> SliceAnnotation:
        """The slice's annotation, created empty on first use."""
        self._check_index(index)
        if index not in self.annotations:
            self._adopt(index, SliceAnnotation(*self.volume.shape[1:]))
        return self.annotations[index]

    def status(self, index: int) -> SliceStatus:
        return self._statuses.get(index, SliceStatus.EMPTY)

    def statuses(self) -> list[SliceStatus]:
        return [self.status(i) for i in range(self.num_slices)]

    def confidence(self, index: int) -> float | None:
        """How sure the model was on its last prediction of this slice (core/inference/confidence.py)."""
        return self._confidences.get(index)

    def found_mandible(self, index: int) -> bool:
        annotation = self.annotations.get(index)
        return annotation is not None and not annotation.is_empty

    def is_unsaved(self, index: int) -> bool:
        return index in self._unsaved

    def unsaved_indexes(self) -> list[int]:
        return sorted(self._unsaved)

    def training_slices(self) -> list[int]:
        """Slices a human EDITED or REVIEWED (training data once saved)."""
        return sorted(i for i, s in self._statuses.items() if s.is_training_data)

    # -- where the user was ------------------------------------------------------------------
    @property
    def last_slice(self) -> int:
        return self._last_slice

    @last_slice.setter
    def last_slice(self, index: int) -> None:
        self._check_index(index)
        if index != self._last_slice:
            self._last_slice = int(index)
            self._record_changed = True

    @property
    def window(self) -> Window | None:
        return self._window

    @window.setter
    def window(self, window: Window) -> None:
        if window != self._window:
            self._window = window
            self._record_changed = True

    # -- changes -------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def keeps(self, index: int, overwrite: bool = False) -> bool:
        """True when a prediction must not replace this slice: human work (unless `overwrite`) or a stroke in progress."""
        annotation = self.annotations.get(index)
        if annotation is not None and annotation.stroke_open:
            return True
        return self.status(index).is_training_data and not overwrite

    def apply_prediction(self, index: int, mask: np.ndarray, confidence: float | None = None,
                         overwrite: bool = False) -> MaskChange | None:
        """Show a model's mask on a slice, which becomes PREDICTED (also when the model found no mandible).

        Returns the change to undo it; None when the slice is kept (see `keeps`) or nothing changed.
        """
        if self.keeps(index, overwrite):
            return None
        annotation = self.annotation(index)
        if confidence is not None:
            self._confidences[index] = float(confidence)
            self._record_changed = True
        if self.status(index) is SliceStatus.REVIEWED:
            self._set_status(index, SliceStatus.PREDICTED)
        change = annotation.set_predicted(mask)  # the listener derives PREDICTED and notifies
        if change is None:
            self._set_status(index, SliceStatus.PREDICTED)
            self._notify(SliceChange(index))
        return change

    def carry(self, index: int, mask: np.ndarray) -> MaskChange | None:
        """Put a mask carried from a person's slices (interpolation, propagation) on a slice, which becomes
        INTERPOLATED; None when the slice is kept (human work, a stroke in progress) or nothing changed."""
        if self.keeps(index):
            return None
        return self.annotation(index).set_interpolated(mask)

    def toggle_reviewed(self, index: int) -> SliceStatus:
        """Mark a slice REVIEWED (training data), or back to what its annotation says when it already was."""
        annotation = self.annotation(index)
        status = annotation.source if self.status(index) is SliceStatus.REVIEWED else SliceStatus.REVIEWED
        self._set_status(index, status)
        self._touch(index)
        self._notify(SliceChange(index))
        return status

    def import_labels(self, labels: np.ndarray) -> list[int]:
        """Human labels for the whole volume (a NIfTI label map, a Labelme folder) replace the slices they cover.

        Each slice with label pixels becomes EDITED (training data) and unsaved; slices without label pixels
        are left as they are (an empty slice of a label map does not say a human checked it).
        """
        labels = np.asarray(labels)
        if labels.shape != self.volume.shape:
            raise InputError(f"the label volume is {labels.shape} but the CT is {self.volume.shape}; "
                             "choose the labels of this scan")
        indexes = [int(i) for i in np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))]
        rows, cols = self.volume.shape[1:]
        for index in indexes:
            mask = labels[index] != 0
            old = self.annotations.pop(index, None)
            if old is not None:
                old.remove_listener(self._slice_listeners.pop(index))
            self._adopt(index, SliceAnnotation(rows, cols, mask, mask, SliceStatus.EDITED))
            self._set_status(index, SliceStatus.EDITED)
            self._touch(index)
            self._notify(SliceChange(index, (slice(0, rows), slice(0, cols))))
        return indexes

    def least_certain_after(self, index: int) -> int | None:
        """The next slice to check: predicted slices from the least certain up; after `index` in that order,
        the least certain one when `index` is not in it; None when no predicted slice has a confidence."""
        order = sorted((c, i) for i, c in self._confidences.items() if self.status(i) is SliceStatus.PREDICTED)
        slices = [i for _, i in order]
        if not slices:
            return None
        if index not in slices:
            return slices[0]
        position = slices.index(index)
        return slices[position + 1] if position + 1 < len(slices) else slices[0]

    # -- drafts and the case record ---------------------------------------------------------------
    def write_drafts(self, max_seconds: float | None = None) -> list[int]:
        """Write the drafts of slices changed since the last draft (all, or as many as fit in `max_seconds`).

        Raises SaveError on a disk error; the slices not written stay queued.
        """
        start = time.perf_counter()
        written = []
        for index in sorted(self.pending_drafts):
            self.store.write_draft(index, self.annotation(index), self.status(index))
            self.pending_drafts.discard(index)
            written.append(index)
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
        self.flush()
        return written

    def flush(self) -> None:
        """Write case.json when a status, confidence, the last slice or the window changed (SaveError on failure)."""
        if self._record_changed:
            self.store.write_record(self.current_record())
            self._record_changed = False

    def current_record(self) -> CaseRecord:
        window = (float(self._window.center), float(self._window.width)) if self._window else None
        return dataclasses.replace(self.store.record, statuses=dict(self._statuses), last_slice=self._last_slice,
                                   window=window, confidences=dict(self._confidences))

    # -- saving --------------------------------------------------------------------------------
    def prepare_save(self) -> SavePlan:
        """Copies of every unsaved slice, to write with `SavePlan.run` (in a worker or right away)."""
        items = tuple(SliceToSave(i, self.annotation(i).copy(), self.status(i)) for i in sorted(self._unsaved))
        return SavePlan(self.store, self.volume, items, self.current_record(), self._window,
                        {item.index: self._revisions.get(item.index, 0) for item in items})

    def finish_save(self, plan: SavePlan, result: SaveResult) -> None:
        """Mark the written slices saved and drop their drafts, unless a slice changed while it was written."""
        for index in result.saved + result.removed:
            if self._revisions.get(index, 0) != plan.revisions.get(index):
                continue
            self._unsaved.discard(index)
            self.pending_drafts.discard(index)
            self.store.remove_draft(index)
            self._notify(SliceChange(index))
        self._record_changed = True  # the plan wrote its own copy of the record; write the newest one
        self.flush()

    def save(self, progress: Progress | None = None) -> SaveResult:
        """Save every unsaved slice now, in this thread (raises SaveError; unsaved slices stay unsaved)."""
        plan = self.prepare_save()
        result = plan.run(progress)
        self.finish_save(plan, result)
        return result

    # -- internals -----------------------------------------------------------------------------
    def _adopt(self, index: int, annotation: SliceAnnotation) -> None:
        listener = lambda region, i=index: self._on_annotation_changed(i, region)  # noqa: E731
        annotation.add_listener(listener)
        self._slice_listeners[index] = listener
        self.annotations[index] = annotation

    def _on_annotation_changed(self, index: int, region: Region) -> None:
        if self.status(index) is not SliceStatus.REVIEWED:
            self._set_status(index, self.annotations[index].source)
        self._touch(index)
        self._notify(SliceChange(index, region))

    def _set_status(self, index: int, status: SliceStatus) -> None:
        if put_status(self._statuses, index, status):
            self._record_changed = True

    def _touch(self, index: int) -> None:
        self._unsaved.add(index)
        self._revisions[index] = self._revisions.get(index, 0) + 1
        self.pending_drafts.add(index)

    def _notify(self, change: SliceChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.num_slices:
            raise IndexError(f"slice {index} is outside 0..{self.num_slices - 1}")
