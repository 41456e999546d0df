"""The open case's drafts, case record and saves (a part of core.workspace.open_case.OpenCase).

A slice is unsaved while its content version differs from the version on disk (`_versions`, `_saved_versions`, kept
by OpenCase): undoing back to the saved state makes it saved again, and its draft is then removed, not written.
Saving runs in two halves so the writing can happen off the GUI thread: `prepare_save()` takes copies,
`SavePlan.run()` writes them (anywhere), `finish_save()` marks the slices saved at the version that was written.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass

from core.volume import Volume
from core.windowing import Window
from core.workspace.case_record import CaseRecord
from core.workspace.case_store import CaseStore, Progress, SaveResult, SliceToSave


@dataclass(frozen=True)
class SavePlan:
    """Copies of the unsaved slices, taken in the thread that edits; `run` may write them from any thread."""

    store: CaseStore
    volume: Volume
    slices: tuple[SliceToSave, ...]
    record: CaseRecord
    window: Window | None
    versions: dict[int, int]

    @property
    def indexes(self) -> list[int]:
        return [item.index for item in self.slices]

    def run(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> SaveResult:
        return self.store.write_slices(self.volume, self.slices, self.record, self.window, progress, cancel)


class CaseSaving:
    """Drafts, case.json and Labelme saves of an OpenCase (its state lives in OpenCase.__init__)."""

    def is_unsaved(self, index: int) -> bool:
        return self._versions.get(index, 0) != self._saved_versions.get(index, 0)

    def unsaved_indexes(self) -> list[int]:
        return sorted(i for i in self._versions if self.is_unsaved(i))

    # -- drafts and the case record ---------------------------------------------------------------
    def write_drafts(self, max_seconds: float | None = None) -> list[int]:
        """Write the drafts of slices changed since the last draft (all, or as many as fit in `max_seconds`);
        a slice that is saved again (undone back to the saved state) has its draft removed instead.

        Raises SaveError on a disk error; the slices not written stay queued.
        """
        start = time.perf_counter()
        written = []
        for index in sorted(self.pending_drafts):
            if self.is_unsaved(index):
                self.store.write_draft(index, self.annotation(index), self.status(index))
            else:
                self.store.remove_draft(index)
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
                                   window=window, confidences=dict(self._confidences),
                                   unsegmented=list(self._unsegmented))

    # -- saving --------------------------------------------------------------------------------
    def prepare_save(self) -> SavePlan:
        """Copies of every unsaved slice, to write with `SavePlan.run` (in a worker or right away)."""
        indexes = self.unsaved_indexes()
        items = tuple(SliceToSave(i, self.annotation(i).copy(), self.status(i)) for i in indexes)
        return SavePlan(self.store, self.volume, items, self.current_record(), self._window,
                        {i: self._versions.get(i, 0) for i in indexes})

    def finish_save(self, plan: SavePlan, result: SaveResult) -> None:
        """The written slices are saved at the version written; one changed meanwhile stays unsaved."""
        for index in result.saved + result.removed:
            self._saved_versions[index] = plan.versions[index]
            if not self.is_unsaved(index):
                self.pending_drafts.discard(index)
                self.store.remove_draft(index)
            self._notify_status(index)
        self._record_changed = True  # the plan wrote its own copy of the record; write the newest one
        self.flush()

    def save(self, progress: Progress | None = None) -> SaveResult:
        """Save every unsaved slice now, in this thread (raises SaveError; unsaved slices stay unsaved)."""
        plan = self.prepare_save()
        result = plan.run(progress)
        self.finish_save(plan, result)
        return result
