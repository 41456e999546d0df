"""One-click retraining from the GUI: a gui.workers task runs the training process (gui.ai.training_process),
which runs core.training.retrain; each of its typed events (core.training.events) comes back as `event`.

Cancel stops within one training step and keeps the checkpoint of the last finished epoch; Resume runs the
same plan on the same staged slices, so the trainer continues where it stopped (stage included).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from core.errors import MandibleStudioError
from core.training.retrain import RetrainPlan, interrupted_plan
from core.training.workspace_data import TrainingInventory, training_inventory
from core.workspace import Workspace
from core.workspace.model_versions import ModelVersions
from gui.ai.jobs import make_ai_task
from gui.ai.training_process import training_run

log = logging.getLogger(__name__)


class TrainController(QObject):
    """Runs one retraining at a time; its events go to the training panel."""

    started = Signal(bool)  # resumed
    event = Signal(object)  # a core.training.events dataclass
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
        root = self.workspace.root
        self.task = make_ai_task(lambda progress, cancel: training_run(root, plan, resume, cancel), "Training", self,
                                 limit_torch=False)
        self.task.yielded.connect(self.event)
        self.task.result.connect(self.version_added)
        self.task.failed.connect(self.failed)
        self.task.cancelled.connect(self.cancelled)
        self.task.finished.connect(self.finished)
        self.started.emit(resume)
        self.task.start()
        return True
