"""One-click retraining from the GUI: a worker QThread supervises the training process
(gui.ai.training_process), which runs core.training.retrain; its typed events come back as signals.

Cancel stops within one training step and keeps the checkpoint of the last finished epoch; Resume runs the
same plan on the same staged slices, so the trainer continues where it stopped (stage included).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from core.errors import MandibleStudioError
from core.training.retrain import Comparing, DataReady, Gathering, RetrainPlan, interrupted_plan
from core.training.trainer import TrainingProgress
from core.training.workspace_data import TrainingInventory, training_inventory
from core.workspace import Workspace
from core.workspace.model_versions import ModelVersions
from gui.ai.jobs import ItemRelay, make_ai_task
from gui.ai.training_process import run_in_process

log = logging.getLogger(__name__)


class TrainController(QObject):
    """Runs one retraining at a time; relays its events to the training panel."""

    started = Signal(bool)  # resumed
    data_ready = Signal(dict)  # the data summary (cases, slices, split)
    event = Signal(object)  # TrainingProgress
    progress = Signal(int, int, str)  # gathering the slices, then comparing the models (0, 0, message)
    version_added = Signal(object)  # ModelVersion
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, workspace: Workspace, versions: ModelVersions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.versions = versions
        self.task = None
        self.plan: RetrainPlan | None = None
        self._relay = ItemRelay()  # no parent: see gui/ai/jobs.py
        self._relay.item.connect(self._on_item)

    @property
    def is_running(self) -> bool:
        return self.task is not None and self.task.is_running

    def can_resume(self) -> bool:
        return not self.is_running and interrupted_plan(self.workspace.models_dir) is not None

    def inventory(self, session=None) -> TrainingInventory:
        """What Retrain would train on now; the open case's edits not yet autosaved are autosaved first, so
        every slice the case list shows as done is on disk and counts."""
        if session is not None:
            try:
                session.write_drafts()
            except MandibleStudioError as exc:  # a full disk: the dialog then lists what is on disk
                log.warning("could not autosave before retraining: %s", exc)
        return training_inventory(self.workspace)

    def start(self, plan: RetrainPlan) -> bool:
        return self._run(plan, resume=False)

    def resume(self) -> bool:
        plan = interrupted_plan(self.workspace.models_dir)
        return plan is not None and self._run(plan, resume=True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _run(self, plan: RetrainPlan, resume: bool) -> bool:
        if self.is_running:
            return False
        self.plan = plan
        job = lambda progress, cancel: run_in_process(self.workspace.root, plan, resume,  # noqa: E731
                                                      self._relay.item.emit, cancel)
        self.task = make_ai_task(job, "Training", self, limit_torch=False)
        self.task.result.connect(self.version_added)
        self.task.failed.connect(self.failed)
        self.task.cancelled.connect(self.cancelled)
        self.task.finished.connect(self.finished)
        self.started.emit(resume)
        self.task.start()
        return True

    def _on_item(self, item) -> None:
        if isinstance(item, TrainingProgress):
            self.event.emit(item)
        elif isinstance(item, DataReady):
            self.data_ready.emit(item.summary)
        elif isinstance(item, Gathering):
            self.progress.emit(item.step, item.total, item.message)
        elif isinstance(item, Comparing):
            self.progress.emit(0, 0, item.message)
