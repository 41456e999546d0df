"""Segment this slice / the whole case with the active model, in a worker; masks appear as they finish.

The worker runs the one prediction path (core.inference.segmenter.Segmenter.predict) and hands each
SlicePrediction to the open case through CaseSession.take_prediction; everything else (statuses, what is
unsaved, drafts, which slices are human work) is the open case's business (core.workspace.open_case).
Slices a human EDITED or REVIEWED are left out of the job unless the user asked for it (`overwrite`), and
the case checks again when each mask arrives (the user may have edited one meanwhile). Each prediction is
one undo step on its slice: a revision from the policy's whole-run step merges into it.
"""
from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import ModelFileError
from core.inference.postprocess import PredictionPolicy
from core.annotation.slice_status import SliceStatus
from core.inference.segmenter import SlicePrediction, Segmenter
from core.volume import Volume
from gui.ai.jobs import ItemRelay, make_ai_task
from gui.case_session import CaseSession

log = logging.getLogger(__name__)


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
                self._segmenter = Segmenter.from_file(model_path)  # the CLI's batch size: the same masks
                self._key = key
            return self._segmenter


def predict_job(cache: SegmenterCache, model_path: Path, volume: Volume, indexes: list[int],
                policy: PredictionPolicy, relay: ItemRelay, progress, cancel: threading.Event) -> int:
    """Worker body: emit each SlicePrediction as it comes; returns the number of slices predicted."""
    if not model_path.is_file():
        raise ModelFileError(f"the active model file {model_path} is missing; activate another version")
    progress(0, len(indexes), "loading the model…")
    segmenter = cache.get(model_path)
    done = 0
    for prediction in segmenter.predict(volume, indexes, policy, cancel):
        relay.item.emit(prediction)
        if not prediction.revised:
            done += 1
            progress(done, len(indexes), f"segmented {done} of {len(indexes)} slices")
    return done


class PredictController(QObject):
    """Runs one segmentation job at a time for the open case and feeds its results into it."""

    started = Signal(str)  # title
    progress = Signal(int, int, str)
    slice_predicted = Signal(int)
    finished = Signal(str)  # summary for the status bar
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = SegmenterCache()
        self.policy = PredictionPolicy()
        self.task = None
        self._relay = ItemRelay()  # no parent: see gui/ai/jobs.py
        self._relay.item.connect(self._on_prediction)
        self._session: CaseSession | None = None
        self._overwrite = False
        self._run = itertools.count()
        self._run_id = 0
        self._todo: list[int] = []
        self._applied = self._kept = self._done = 0
        self._outcome = "finished"

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
        self._session, self._overwrite, self._run_id, self._todo = session, overwrite, next(self._run), todo
        self._applied, self._kept, self._done, self._outcome = 0, len(indexes) - len(todo), 0, "finished"
        title = f"Segmenting {len(todo)} slice(s)"
        policy = self.policy
        job = lambda progress, cancel: predict_job(self.cache, Path(model_path), session.volume, todo,  # noqa: E731
                                                   policy, self._relay, progress, cancel)
        self.task = make_ai_task(job, title, self)
        self.task.progress.connect(self.progress)
        self.task.failed.connect(self._on_failed)
        self.task.cancelled.connect(lambda: setattr(self, "_outcome", "cancelled"))
        self.task.finished.connect(self._on_finished)
        self.started.emit(title)
        self.task.start()
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_prediction(self, prediction: SlicePrediction) -> None:
        session = self._session
        if session is None:
            return
        taken = session.take_prediction(prediction.index, prediction.mask, prediction.confidence,
                                        self._overwrite, merge_key=("prediction", self._run_id))
        if prediction.revised:
            return
        self._done += 1
        if not taken:
            self._kept += 1  # edited by the user while the job ran, or being painted right now
            return
        self._applied += 1
        self.slice_predicted.emit(prediction.index)

    def _on_failed(self, message: str) -> None:
        self._outcome = "failed"
        self.failed.emit(message)

    def _on_finished(self) -> None:
        """One honest line: how far it got, what was kept, where the model found no mandible."""
        kept = f"; {self._kept} edited or reviewed slice(s) kept" if self._kept else ""
        if self._outcome != "finished":
            self.finished.emit(f"Segmentation {self._outcome} after {self._done} of {len(self._todo)} slices; "
                               f"the {self._applied} segmented slice(s) are kept{kept}")
            return
        session = self._session
        empty = 0 if session is None else sum(1 for i in self._todo if session.status(i) is SliceStatus.PREDICTED
                                               and not session.case.found_mandible(i))
        none = f", no mandible found on {empty}" if empty else ""
        self.finished.emit(f"Segmented {self._applied} slice(s){none}{kept}")

    def detach(self) -> None:
        """The case is being closed: cancel and drop any masks still arriving."""
        self.cancel()
        self._session = None
