"""Wires the AI features into the main window: the AI menu and its shortcuts, the Training and Models docks,
a progress bar with Cancel for segmentation, and a guard that asks before closing while an AI job runs.

Nothing here blocks the GUI thread for long: prediction, training, model import and comparison run in
workers (gui.ai.jobs); the window only applies results as they arrive.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QDialog, QDockWidget, QFileDialog, QHBoxLayout, QMainWindow, QMessageBox,
                               QProgressBar, QToolButton, QWidget)

from core.errors import MandibleStudioError
from core.workspace.model_versions import ModelVersion, ModelVersions
from gui import dialogs
from gui.actions import ActionSpec
from gui.ai.jobs import make_ai_task, wait_for
from gui.ai.predict_controller import PredictController
from gui.ai.retrain_dialog import RetrainDialog
from gui.ai.train_controller import TrainController
from core.training.retrain import RetrainPlan, resume_epoch
from gui.ai.training_panel import TrainingPanel
from gui.ai.versions_panel import NO_MODEL, VersionsPanel, describe_comparison

log = logging.getLogger(__name__)

CLOSE_WAIT_MS = 30_000
NO_TRAINING_DATA = ("There is nothing to train on yet. Correct the mandible on some slices (or mark good "
                    "predictions reviewed with R), then Retrain. Only slices you edited or reviewed are used.")

SPECS = (
    ActionSpec("segment_slice", "Segment This &Slice", ("Ctrl+G",), None, None,
               "Segment the mandible on this slice with the active model"),
    ActionSpec("segment_case", "Segment Whole &Case", ("Ctrl+Shift+G",), None, None,
               "Segment every slice; edited and reviewed slices are kept"),
    ActionSpec("segment_case_all", "Segment Whole Case, Replacing Edited Slices…", (), None, None,
               "Segment every slice, also replacing slices you edited or reviewed"),
    ActionSpec("cancel_ai", "Cancel Segmentation", (), None, None, "Stop the running segmentation"),
    ActionSpec("retrain", "&Retrain…", ("Ctrl+T",), None, None,
               "Train a new model version on every edited or reviewed slice of the workspace"),
    ActionSpec("resume_training", "Resume &Training", (), None, None, "Continue an interrupted training run"),
    ActionSpec("import_model", "&Import Model…", (), None, None, "Add a .msmodel file as a model version"),
    ActionSpec("export_model", "&Export Model…", (), None, None, "Save the selected model version as a file"),
)


# --- questions (tests monkeypatch these) -------------------------------------------------------------
def ask_cancel_jobs(parent: QWidget, what: str) -> bool:
    answer = QMessageBox.question(parent, "AI job running", f"{what} is still running. Cancel it and close?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_replace_edited(parent: QWidget, count: int) -> bool:
    answer = QMessageBox.question(parent, "Replace your edits?",
                                  f"{count} slice(s) were edited or reviewed by a person. Replace them with "
                                  "the model's prediction? (Each slice can be undone with Ctrl+Z.)",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_model_file(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Import a model", "", "Mandible Studio models (*.msmodel)")
    return path


def ask_export_path(parent: QWidget, name: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export the model", name, "Mandible Studio models (*.msmodel)")
    return path


def ask_plan(parent: QWidget, inventory, active_model: Path | None) -> RetrainPlan | None:
    dialog = RetrainDialog(inventory, active_model, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.timer.stop()
    return dialog.plan() if accepted else None


class AiController(QObject):
    version_activated = Signal(str)
    versions_changed = Signal()

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.versions = ModelVersions(window.workspace.models_dir)
        self.versions.ensure_starter()
        self.predict = PredictController(self)
        self.train = TrainController(window.workspace, self.versions, self)
        self.import_task = None
        self._resuming = False
        self._build_actions()
        self._build_docks()
        self._build_job_bar()
        self._connect()
        window.installEventFilter(self)
        self.refresh_versions()
        self.training_panel.stopped(self._idle_text(), self.train.can_resume())

    # --- building -----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        actions = self.window.actions
        slots = {"segment_slice": self.segment_slice, "segment_case": self.segment_case,
                 "segment_case_all": lambda: self.segment_case(overwrite=True), "cancel_ai": self.predict.cancel,
                 "retrain": self.retrain, "resume_training": self.resume_training,
                 "import_model": self.import_model, "export_model": self.export_model}
        menu = actions.menu("&AI")
        for spec in SPECS:
            menu.addAction(actions.add(spec, slots[spec.key]))
            if spec.key in ("cancel_ai", "resume_training"):
                menu.addSeparator()
        self.actions = {spec.key: actions[spec.key] for spec in SPECS}
        self.actions["cancel_ai"].setEnabled(False)
        toolbar = self.window.findChild(QWidget, "mainToolbar")
        if toolbar is not None:
            toolbar.addSeparator()
            for key in ("segment_slice", "segment_case", "retrain"):
                toolbar.addAction(self.actions[key])

    def _build_docks(self) -> None:
        self.training_panel = TrainingPanel()
        self.versions_panel = VersionsPanel()
        self.training_dock = self._dock("Training", self.training_panel)
        self.models_dock = self._dock("Models", self.versions_panel)
        # Tabbed with the editing tools, so the tools keep the whole right column's height;
        # the Training and Models tabs come forward when a run starts or a version is added.
        tools_dock = self.window.findChild(QDockWidget, "dockTools")
        first = tools_dock or self.training_dock
        for dock in (self.training_dock, self.models_dock):
            if dock is not first:
                self.window.tabifyDockWidget(first, dock)
        first.raise_()

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self.window, objectName=f"dock{title}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_job_bar(self) -> None:
        self.job_bar = QWidget(objectName="aiJobBar")
        layout = QHBoxLayout(self.job_bar)
        layout.setContentsMargins(0, 0, 0, 0)
        self.job_progress = QProgressBar(objectName="aiJobProgress", maximumWidth=200, textVisible=True)
        self.job_cancel = QToolButton(objectName="aiJobCancel", text="Cancel")
        self.job_cancel.clicked.connect(self.predict.cancel)
        layout.addWidget(self.job_progress)
        layout.addWidget(self.job_cancel)
        self.window.statusBar().addPermanentWidget(self.job_bar)
        self.job_bar.hide()

    def _connect(self) -> None:
        p, t, v = self.predict, self.train, self.versions_panel
        p.started.connect(self._on_predict_started)
        p.progress.connect(self._on_predict_progress)
        p.failed.connect(lambda message: dialogs.show_error(self.window, "Segmentation failed", message))
        p.finished.connect(self._on_predict_finished)
        t.started.connect(lambda plan: self.training_panel.start(resumed=self._resuming))
        t.data_ready.connect(self.training_panel.show_data)
        t.progress.connect(self.training_panel.show_progress)
        t.started.connect(lambda resumed: self.actions["resume_training"].setEnabled(False))
        t.event.connect(self.training_panel.show_event)
        t.version_added.connect(self._on_version_added)
        t.failed.connect(self._on_training_failed)
        t.cancelled.connect(self._on_training_cancelled)
        t.finished.connect(self._on_training_finished)
        self.training_panel.cancel_button.clicked.connect(self.cancel_training)
        self.training_panel.resume_button.clicked.connect(self.resume_training)
        v.activate_requested.connect(self.activate)
        v.rollback_requested.connect(self.rollback)
        v.import_requested.connect(self.import_model)
        v.export_requested.connect(self.export_model)
        self.window.case_opened.connect(lambda case_id: self.predict.detach())

    # --- segmentation -------------------------------------------------------------------------------
    def _model_or_explain(self) -> Path | None:
        active = self.versions.active()
        if active is None:
            dialogs.show_error(self.window, "No model yet", NO_MODEL.replace("<b>", "").replace("</b>", ""))
            self.models_dock.raise_()
            return None
        return active.model_path

    def segment_slice(self) -> bool:
        session = self.window.session
        if session is None:
            return False
        index = session.current
        if session.status(index).is_training_data and not ask_replace_edited(self.window, 1):
            return False
        model = self._model_or_explain()
        return model is not None and self.predict.start(session, model, [index], overwrite=True)

    def segment_case(self, overwrite: bool = False) -> bool:
        session = self.window.session
        if session is None:
            return False
        indexes = list(range(session.num_slices))
        protected = self.predict.protected(session, indexes)
        if overwrite and protected and not ask_replace_edited(self.window, len(protected)):
            return False
        model = self._model_or_explain()
        return model is not None and self.predict.start(session, model, indexes, overwrite=overwrite)

    def _resegment_predictions(self) -> None:
        """After a change of model, the predictions on screen come from the new one (human slices untouched)."""
        session = self.window.session
        if session is None or self.predict.is_running:
            return
        predicted = [i for i in range(session.num_slices) if session.status(i).value == "predicted"]
        active = self.versions.active()
        if predicted and active is not None:
            self.predict.start(session, active.model_path, predicted)

    def _on_predict_started(self, title: str) -> None:
        self.job_progress.setRange(0, 0)
        self.job_progress.setFormat(title)
        self.job_bar.show()
        self.actions["cancel_ai"].setEnabled(True)
        self.window.statusBar().showMessage(title + "…")

    def _on_predict_progress(self, step: int, total: int, message: str) -> None:
        self.job_progress.setRange(0, max(1, total))
        self.job_progress.setValue(step)
        self.job_progress.setFormat("%v / %m slices")

    def _on_predict_finished(self, summary: str) -> None:
        self.job_bar.hide()
        self.actions["cancel_ai"].setEnabled(False)
        self.window.statusBar().showMessage(summary, 6000)

    # --- training -----------------------------------------------------------------------------------
    def retrain(self) -> bool:
        if self.train.is_running:
            self.training_dock.raise_()
            return False
        inventory = self.train.inventory(self.window.session)
        if not inventory.slices:
            dialogs.show_error(self.window, "Nothing to train on", NO_TRAINING_DATA)
            return False
        active = self.versions.active()
        plan = ask_plan(self.window, inventory, active.model_path if active else None)
        if plan is None:
            return False
        self._resuming = False
        self.training_dock.raise_()
        return self.train.start(plan)

    def resume_training(self) -> bool:
        self._resuming = True
        self.training_dock.raise_()
        return self.train.resume()

    def cancel_training(self) -> None:
        self.train.cancel()
        self.training_panel.cancelling()

    def _on_version_added(self, version: ModelVersion) -> None:
        activated = self.versions.active() is None
        if activated:
            self.activate(version.version_id)
        self.refresh_versions()
        self.versions_panel.select(version.version_id)
        self.models_dock.raise_()
        note = " It is now the active model." if activated else " Activate it in the Models panel to use it."
        self.training_panel.stopped(f"Finished: {describe_comparison(version)}{note}", False)

    def _on_training_failed(self, message: str) -> None:
        self.training_panel.stopped(f"Training stopped: {message}", self.train.can_resume())
        dialogs.show_error(self.window, "Training failed", message)

    def _on_training_cancelled(self) -> None:
        done = resume_epoch(self.window.workspace.models_dir)
        self.training_panel.stopped(f"Cancelled. {done} finished epoch(s) kept; Resume continues from there.",
                                    self.train.can_resume())

    def _on_training_finished(self) -> None:
        self.actions["resume_training"].setEnabled(self.train.can_resume())

    def _idle_text(self) -> str:
        if self.train.can_resume():
            return (f"An interrupted training run can be resumed ({resume_epoch(self.window.workspace.models_dir)} "
                    "finished epoch(s) kept).")
        return "No training running. Retrain (Ctrl+T) trains a new version on every edited or reviewed slice."

    # --- versions -----------------------------------------------------------------------------------
    def refresh_versions(self) -> None:
        versions = self.versions.versions()
        self.versions_panel.set_versions(versions, self.versions.active_id, self.versions.can_rollback())
        self.actions["export_model"].setEnabled(bool(versions))
        self.actions["resume_training"].setEnabled(self.train.can_resume())
        self.versions_changed.emit()

    def activate(self, version_id: str) -> bool:
        return self._change_model(lambda: self.versions.activate(version_id))

    def rollback(self) -> bool:
        return self._change_model(self.versions.rollback)

    def _change_model(self, change) -> bool:
        try:
            version = change()
        except MandibleStudioError as exc:
            dialogs.show_error(self.window, "Cannot change the model", str(exc))
            return False
        self.refresh_versions()
        self.window.statusBar().showMessage(f"Active model: {version.label}", 6000)
        self.version_activated.emit(version.version_id)
        self._resegment_predictions()
        return True

    def import_model(self) -> bool:
        path = ask_model_file(self.window)
        if not path or (self.import_task is not None and self.import_task.is_running):
            return False
        self.import_task = make_ai_task(lambda progress, cancel: self.versions.import_model(path),
                                        f"Importing {Path(path).name}", self)
        self.import_task.result.connect(lambda version: self.activate(version.version_id))
        self.import_task.failed.connect(lambda message: dialogs.show_error(self.window, "Cannot import", message))
        self.import_task.start()
        return True

    def export_model(self, version_id: str | None = None) -> bool:
        version_id = version_id or self.versions_panel.selected_id() or self.versions.active_id
        if version_id is None:
            return False
        path = ask_export_path(self.window, f"{version_id}.msmodel")
        if not path:
            return False
        try:
            out = self.versions.export_model(version_id, path)
        except MandibleStudioError as exc:
            dialogs.show_error(self.window, "Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Model exported to {out}", 6000)
        return True

    # --- closing ------------------------------------------------------------------------------------
    def running_tasks(self) -> list:
        tasks = (self.predict.task, self.train.task, self.import_task)
        return [t for t in tasks if t is not None and t.is_running]

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        if obj is self.window and event.type() == QEvent.Type.Close and self.running_tasks():
            what = "Training" if self.train.is_running else "A segmentation"
            if not ask_cancel_jobs(self.window, what):
                event.ignore()
                return True
            self.shutdown()
        return False

    def shutdown(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel every AI job and wait for its thread to end; True when all ended in time."""
        for task in self.running_tasks():
            task.cancel()
        return all(wait_for(task, timeout_ms) for task in self.running_tasks())
