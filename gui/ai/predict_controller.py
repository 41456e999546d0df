"""Segment this slice / the whole case with the active model, in a worker; masks appear as they finish.

Slices a human EDITED or REVIEWED are never replaced unless the user asked for it (`overwrite=True`,
behind a confirmation): they are left out of the job, and checked again when each mask arrives (the
user may have edited one meanwhile). Each prediction is one undo step on its slice and marks it
PREDICTED (also when the model found no mandible there: the slice was looked at), which is not training
data until a human edits or reviews it.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.errors import Cancelled, ModelFileError
from core.inference.postprocess import clean_mask
from core.inference.segmenter import Segmenter
from core.volume import Volume
from core.annotation.slice_status import SliceStatus
from gui.ai.jobs import ItemRelay, make_ai_task
from gui.case_session import CaseSession

log = logging.getLogger(__name__)

BATCH = 4


class SegmenterCache:
    """The loaded active model, reused while the active version stays the same (loads in the worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._segmenter: Segmenter | None = None

    def get(self, model_path: Path) -> Segmenter:
        key = (str(model_path), model_path.stat().st_mtime_ns if model_path.exists() else 0)
        with self._lock:
            if self._key != key:
                self._segmenter = None
                self._segmenter = Segmenter.from_file(model_path, batch_size=BATCH)
                self._key = key
            return self._segmenter


def predict_job(cache: SegmenterCache, model_path: Path, volume: Volume, indexes: list[int],
                relay: ItemRelay, progress, cancel: threading.Event) -> int:
    """Worker body: emit (index, mask) for each slice, batch by batch; returns the number of slices done."""
    if not model_path.is_file():
        raise ModelFileError(f"the active model file {model_path} is missing; activate another version")
    progress(0, len(indexes), "loading the model…")
    segmenter = cache.get(model_path)
    for start in range(0, len(indexes), BATCH):
        if cancel.is_set():
            raise Cancelled(f"segmentation cancelled after {start} of {len(indexes)} slices")
        chunk = indexes[start:start + BATCH]
        for index, mask in zip(chunk, segmenter.predict_slices(volume, chunk)):
            relay.item.emit((index, clean_mask(mask)))
        done = min(start + BATCH, len(indexes))
        progress(done, len(indexes), f"segmented {done} of {len(indexes)} slices")
    return len(indexes)


class PredictController(QObject):
    """Runs one segmentation job at a time for the open case and applies its masks."""

    started = Signal(str)  # title
    progress = Signal(int, int, str)
    slice_predicted = Signal(int)
    finished = Signal(str)  # summary for the status bar
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = SegmenterCache()
        self.task = None
        self._relay = ItemRelay()  # no parent: see gui/ai/jobs.py
        self._relay.item.connect(self._on_mask)
        self._session: CaseSession | None = None
        self._overwrite = False
        self._applied = self._kept = 0

    @property
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running

    def protected(self, session: CaseSession, indexes: list[int]) -> list[int]:
        """The slices of `indexes` a human edited or reviewed."""
        return [i for i in indexes if session.status(i).is_training_data]

    def start(self, session: CaseSession, model_path: Path, indexes: list[int], overwrite: bool = False) -> bool:
        """Segment `indexes` of the open case; False when a segmentation is already running."""
        if self.is_running:
            return False
        todo = list(indexes) if overwrite else [i for i in indexes if not session.status(i).is_training_data]
        self._session, self._overwrite = session, overwrite
        self._applied, self._kept = 0, len(indexes) - len(todo)
        title = f"Segmenting {len(todo)} slice(s)"
        job = lambda progress, cancel: predict_job(self.cache, Path(model_path), session.volume, todo,  # noqa: E731
                                                   self._relay, progress, cancel)
        self.task = make_ai_task(job, title, self)
        self.task.progress.connect(self.progress)
        self.task.failed.connect(self.failed)
        self.task.finished.connect(self._on_finished)
        self.started.emit(title)
        self.task.start()
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_mask(self, item) -> None:
        index, mask = item
        session = self._session
        if session is None:
            return
        painting_here = index == session.current and session.stroke_open
        if painting_here or (session.status(index).is_training_data and not self._overwrite):
            self._kept += 1  # edited by the user while the job ran, or being painted right now
            return
        annotation = session.annotation(index)
        change = annotation.set_predicted(np.asarray(mask, np.uint8))
        session.undo.push(index, annotation, change, "Segment slice")
        if session.status(index) is not SliceStatus.PREDICTED:  # also when the model found no mandible
            session.store.set_status(index, SliceStatus.PREDICTED)
            session.store.mark_dirty(index)
            session.status_changed.emit(index)
        # Not autosaved: a prediction can be recomputed, and snapshotting a whole case's worth of them in
        # the GUI thread stalled it (docs/decisions/072). Ctrl+S saves them like any unsaved slice.
        session.pending_autosave.discard(index)
        self._applied += 1
        self.slice_predicted.emit(index)

    def _on_finished(self) -> None:
        kept = f"; {self._kept} edited or reviewed slice(s) kept" if self._kept else ""
        self.finished.emit(f"Segmented {self._applied} slice(s){kept}")

    def detach(self) -> None:
        """The case was closed: cancel and drop any masks still arriving."""
        self.cancel()
        self._session = None
