"""Retraining in the app: the Retrain and Resume actions, the Training dock (gui/ai/training_panel.py) and the
supervised training run (gui/ai/train_controller.py). A finished run hands its new version to `version_added`.
The actions (gui/actions.py) call `retrain` and `resume_training`; Resume's enable rule reads `resumable`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from core.training.retrain import RetrainPlan, resume_epoch
from core.workspace import Workspace
from core.workspace.model_versions import ModelVersion, ModelVersions
from gui import dialogs
from gui.ai.retrain_dialog import RetrainDialog
from gui.ai.train_controller import TrainController
from gui.ai.training_panel import TrainingPanel
from gui.ai.versions_panel import describe_comparison
from gui.case_session import CaseSession
from gui.window_actions import Actions

NO_TRAINING_DATA = ("There is nothing to train on yet. Correct the mandible on some slices (or mark good "
                    "predictions reviewed with R), then Retrain. Only slices you edited or reviewed are used.")

def ask_plan(parent: QWidget, inventory, active_model: Path | None) -> RetrainPlan | None:
    dialog = RetrainDialog(inventory, active_model, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.timer.stop()
    return dialog.plan() if accepted else None


class Retraining(QObject):
    started = Signal()  # the Training dock should come forward
    version_added = Signal(object)  # ModelVersion

    def __init__(self, parent: QWidget, actions: Actions, workspace: Workspace, versions: ModelVersions) -> None:
        super().__init__(parent)
        self._parent, self._workspace, self._versions = parent, workspace, versions
        self.panel = TrainingPanel()
        self.train = TrainController(workspace, versions, self)
        self._resuming = False
        self._session: CaseSession | None = None
        self.actions = actions  # the window's (Retrain, Resume Training are declared in gui/actions.py)
        self.resumable = False  # an interrupted run can be resumed (kept here: the rule must not read files)
        t = self.train
        t.started.connect(lambda resumed: self.panel.start(resumed=self._resuming))
        t.started.connect(lambda resumed: setattr(self, "resumable", False))
        t.event.connect(self.panel.show_event)
        t.version_added.connect(self.version_added)
        t.failed.connect(self._on_failed)
        t.cancelled.connect(self._on_cancelled)
        t.finished.connect(self.refresh)
        self.panel.cancel_button.clicked.connect(self.cancel)
        self.panel.resume_button.clicked.connect(self.resume_training)
        self.panel.stopped(self._idle_text(), self.train.can_resume())
        self.refresh()

    def set_session(self, session: CaseSession | None) -> None:
        """The open case: its edits not yet autosaved are autosaved before Retrain counts what it would train on."""
        self._session = session

    def refresh(self) -> None:
        self.resumable = self.train.can_resume()

    def retrain(self) -> bool:
        if self.train.is_running:
            self.started.emit()
            return False
        inventory = self.train.inventory(self._session)
        if not inventory.slices:
            dialogs.show_error(self._parent, "Nothing to train on", NO_TRAINING_DATA)
            return False
        active = self._versions.active()
        plan = ask_plan(self._parent, inventory, active.model_path if active else None)
        if plan is None:
            return False
        self._resuming = False
        self.started.emit()
        return self.train.start(plan)

    def resume_training(self) -> bool:
        self._resuming = True
        self.started.emit()
        return self.train.resume()

    def cancel(self) -> None:
        self.train.cancel()
        self.panel.cancelling()

    def finished_version(self, version: ModelVersion, activated: bool) -> None:
        """Say in the panel how the run ended once its version is listed."""
        note = " It is now the active model." if activated else " Activate it in the Models panel to use it."
        self.panel.stopped(f"Finished: {describe_comparison(version)}{note}", False)

    def _on_failed(self, message: str) -> None:
        self.panel.stopped(f"Training stopped: {message}", self.train.can_resume())
        dialogs.show_error(self._parent, "Training failed", message)

    def _on_cancelled(self) -> None:
        done = resume_epoch(self._workspace.models_dir)
        self.panel.stopped(f"Cancelled. {done} finished epoch(s) kept; Resume continues from there.",
                           self.train.can_resume())

    def _idle_text(self) -> str:
        if self.train.can_resume():
            return (f"An interrupted training run can be resumed ({resume_epoch(self._workspace.models_dir)} "
                    "finished epoch(s) kept).")
        return "No training running. Retrain (Ctrl+T) trains a new version on every edited or reviewed slice."
