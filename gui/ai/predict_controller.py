"""Segment this slice / the whole case with the active model, in a worker; masks appear as they finish.

The worker runs the one prediction path (core.inference.segmenter.Segmenter.predict) and hands each
SlicePrediction to the open case through one `CaseRun` of kind PREDICTION (CaseSession.begin_run); everything
else (statuses, what is unsaved, drafts, which slices a prediction may write) is the open case's business
(core.workspace.open_case, core.workspace.edit_rules). The job predicts only the slices the rule allows at the
start (`CaseSession.targets`), and the run asks the rule again when each mask arrives (the user may have edited
one meanwhile). The whole run is ONE entry of the case-wide history: a revision from the policy's whole-run step
merges into its slice's change. A run stopped because another case opened leaves its unreached slices in the
case (`CaseSession.unsegmented`) so that it can be resumed.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import ModelFileError
from core.inference.postprocess import PredictionPolicy
from core.annotation.slice_status import SliceStatus
from core.inference.segmenter import SlicePrediction, Segmenter
from core.volume import Volume
from core.workspace.case_run import CaseRun
from core.workspace.edit_rules import Allow, EditKind
from gui.ai.jobs import make_ai_task
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
                policy: PredictionPolicy, progress, cancel: threading.Event):
    """Worker body: load the model, then the one prediction path itself, a core generator of SlicePredictions
    that the runner (gui/workers.py) delivers one by one as `yielded`, checking the cancel at every one."""
    if not model_path.is_file():
        raise ModelFileError(f"the active model file {model_path} is missing; activate another version")
    progress(0, len(indexes), "loading the model…")
    return cache.get(model_path).predict(volume, indexes, policy, cancel)


class PredictController(QObject):
    """Runs one segmentation job at a time for the open case and feeds its results into it."""

    started = Signal(str)  # title
    progress = Signal(int, int, str)
    slice_predicted = Signal(int)
    finished = Signal(str)  # summary for the status bar ("" when the case closed meanwhile)
    failed = Signal(str)
    interrupted = Signal(str, int, int)  # case name, slices reached, slices asked: another case was opened

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = SegmenterCache()
        self.policy = PredictionPolicy()
        self.task = None
        self._session: CaseSession | None = None
        self._run: CaseRun | None = None
        self._todo: list[int] = []
        self._reached: set[int] = set()
        self._applied = self._kept = 0
        self._outcome = "finished"

    @property
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running

    def start(self, session: CaseSession, model_path: Path, indexes: list[int], allow: Allow = Allow(),
              text: str = "Segment") -> bool:
        """Segment the slices of `indexes` the rule lets a prediction write; False when one is running already."""
        if self.is_running:
            return False
        todo = session.targets(EditKind.PREDICTION, indexes, allow)
        self._session, self._todo, self._reached = session, todo, set()
        self._applied, self._kept, self._outcome = 0, len(indexes) - len(todo), "finished"
        self._run = session.begin_run(EditKind.PREDICTION, text, allow, on_stop=self._on_run_stopped)
        title = f"Segmenting {len(todo)} slice(s)"
        policy = self.policy
        job = lambda progress, cancel: predict_job(self.cache, Path(model_path), session.volume, todo,  # noqa: E731
                                                   policy, progress, cancel)
        self.task = task = make_ai_task(job, title, self)
        task.progress.connect(self.progress)
        task.yielded.connect(lambda prediction: self._on_prediction(task, prediction))
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        task.finished.connect(self._on_finished)
        task.start()
        self.started.emit(title)  # running now: the actions' enable rules see it
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_prediction(self, task, prediction: SlicePrediction) -> None:
        """A mask of `task` arrived in the GUI thread: written through the run if the rule still allows it."""
        run = self._run
        if task is not self.task or run is None or not run.is_open:
            return
        taken = run.write(prediction.index, prediction.mask, prediction.confidence)
        if prediction.revised:
            return
        self._reached.add(prediction.index)
        done = len(self._reached)
        self.progress.emit(done, len(self._todo), f"segmented {done} of {len(self._todo)} slices")
        if not taken:
            self._kept += 1  # edited by the user while the job ran, or being painted right now
            return
        self._applied += 1
        self.slice_predicted.emit(prediction.index)

    def _on_cancelled(self) -> None:
        if self._outcome == "finished":
            self._outcome = "cancelled"

    def _on_run_stopped(self, why: str) -> None:
        """The case stopped the run (its entry was undone): the job stops too."""
        self._outcome = "stopped because you undid it" if why == "undone" else f"stopped ({why})"
        self.cancel()

    def _on_failed(self, message: str) -> None:
        self._outcome = "failed"
        self.failed.emit(message)

    def _on_finished(self) -> None:
        """One honest line: how far it got, what was kept, where the model found no mandible."""
        if self._run is not None:
            self._run.end()
        session = self._session
        if session is None:
            self.finished.emit("")  # detached: `interrupted` told the window when the case closed
            return
        kept = f"; {self._kept} slice(s) kept (your work)" if self._kept else ""
        if self._outcome != "finished":
            self.finished.emit(f"Segmentation {self._outcome} after {len(self._reached)} of {len(self._todo)} "
                               f"slices; the {self._applied} segmented slice(s) stay{kept}")
            return
        session.unsegmented = [i for i in session.unsegmented if i not in self._reached]
        empty = sum(1 for i in self._todo if session.status(i) is SliceStatus.PREDICTED
                    and not session.found_mandible(i))
        none = f", no mandible found on {empty}" if empty else ""
        self.finished.emit(f"Segmented {self._applied} slice(s){none}{kept}")

    def detach(self) -> None:
        """The case is being closed: the job stops, masks still arriving are dropped, and a run cut short leaves
        its unreached slices in the case to resume (and says so)."""
        session, run = self._session, self._run
        self._session = None
        if session is not None and run is not None and run.is_open and self.is_running:
            unreached = [i for i in self._todo if i not in self._reached]
            session.unsegmented = sorted(set(session.unsegmented) | set(unreached))
            self.interrupted.emit(session.name, len(self._reached), len(self._todo))
        if run is not None:
            run.end()
        self.cancel()
