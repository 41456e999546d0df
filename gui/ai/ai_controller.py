"""The AI in the main window, put together from its parts: segmenting (gui/ai/segmenting.py), segmenting the
selected cases (gui/ai/segmenting_cases.py), retraining (gui/ai/retraining.py) and model versions
(gui/ai/models.py), each given what it needs by the window.

Its actions are declared with the window's others in gui/actions.py, their callbacks reaching the parts through
`window.ai`. It places the Training and Models docks (tabbed with the editing tools), wires the parts to each
other (a new active model re-segments the predictions shown; a trained version is listed and, when none was
active, activated), and answers the window's close path: which job is running, and stopping them all.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from core.workspace import Workspace
from core.workspace.model_versions import ModelVersion
from gui.ai.jobs import wait_for
from gui.ai.models import Models
from gui.ai.retraining import Retraining
from gui.ai.segmenting import Segmenting
from gui.ai.segmenting_cases import SegmentingCases
from gui.case_session import CaseSession

CLOSE_WAIT_MS = 30_000


class AiController(QObject):
    def __init__(self, window: QMainWindow, workspace: Workspace, tools_dock: QDockWidget) -> None:
        super().__init__(window)
        self._window = window
        status_bar, actions = window.statusBar(), window.actions
        self.models = Models(window, status_bar, workspace.models_dir)
        self.segmenting = Segmenting(window, actions, status_bar, self.models.versions, self._explain_no_model)
        self.cases = SegmentingCases(window, workspace, actions, window.case_list, self.segmenting)
        window.case_opened.connect(self.cases.case_opened)
        self.training = Retraining(window, actions, workspace, self.models.versions)
        self.training_dock = self._dock("Training", self.training.panel)
        self.models_dock = self._dock("Models", self.models.panel)
        # Tabbed with the editing tools, so the tools keep the whole right column's height;
        # the Training and Models tabs come forward when a run starts or a version is added.
        for dock in (self.training_dock, self.models_dock):
            window.tabifyDockWidget(tools_dock, dock)
        tools_dock.raise_()
        self.models.version_activated.connect(lambda version_id: self.segmenting.resegment_predictions())
        self.models.versions_changed.connect(self.training.refresh)
        self.training.started.connect(self.training_dock.raise_)
        self.training.version_added.connect(self._on_version_added)
        self.models.refresh()

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self._window, objectName=f"dock{title}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self._window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def set_session(self, session: CaseSession | None) -> None:
        self.segmenting.set_session(session)
        self.training.set_session(session)

    def _explain_no_model(self) -> None:
        self.models_dock.raise_()
        if self.models.explain_no_model() == "train":
            self.training.retrain()

    def _on_version_added(self, version: ModelVersion) -> None:
        activated = self.models.add_trained(version)
        self.models_dock.raise_()
        self.training.finished_version(version, activated)

    # --- the window's close path (gui/close_guard.py) ---------------------------------------------------
    def _tasks(self) -> list:
        tasks = (self.segmenting.predict.task, self.cases.task, self.training.train.task, self.models.import_task)
        return [t for t in tasks if t is not None and t.is_running]

    def running_job(self) -> str | None:
        """What the close question names: "Training", "A segmentation", "A model import", or None."""
        if self.training.train.is_running:
            return "Training"
        if self.segmenting.predict.is_running or self.cases.is_running:
            return "A segmentation"
        return "A model import" if self._tasks() else None

    def shutdown(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel every AI job and wait for its thread to end; True when all ended in time."""
        self.segmenting.predict.detach()
        for task in self._tasks():
            task.cancel()
        return all(wait_for(task, timeout_ms) for task in self._tasks())
