"""Model versions in the app: the Models dock (gui/ai/versions_panel.py), Import / Export, Activate and Roll
Back. Importing runs in a worker; activating emits `version_activated` so the predictions shown can follow.
The Import and Export actions (gui/actions.py) call the methods here; Export's enable rule reads `has_versions`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from core.errors import MandibleStudioError
from core.workspace.model_versions import ModelVersion, ModelVersions
from gui import dialogs
from gui.ai.jobs import make_ai_task
from gui.ai.versions_panel import NO_MODEL, VersionsPanel

def ask_model_file(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Import a model", "", "Mandible Studio models (*.msmodel)")
    return path


def ask_export_path(parent: QWidget, name: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export the model", name, "Mandible Studio models (*.msmodel)")
    return path


class Models(QObject):
    version_activated = Signal(str)  # version id
    versions_changed = Signal()

    def __init__(self, parent: QWidget, status_bar: QStatusBar, models_dir: Path) -> None:
        super().__init__(parent)
        self._parent, self._status_bar = parent, status_bar
        self.versions = ModelVersions(models_dir)
        self.versions.ensure_starter()
        self.panel = VersionsPanel()
        self.import_task = None
        self.has_versions = False
        self.panel.activate_requested.connect(self.activate)
        self.panel.rollback_requested.connect(self.rollback)
        self.panel.import_requested.connect(self.import_model)
        self.panel.export_requested.connect(self.export_model)

    def refresh(self) -> None:
        versions = self.versions.versions()
        self.panel.set_versions(versions, self.versions.active_id, self.versions.can_rollback())
        self.has_versions = bool(versions)
        self.versions_changed.emit()

    def explain_no_model(self) -> str | None:
        """Say how to get a model; what the user chose: 'import' (done here), 'train' (for the caller) or None."""
        answer = dialogs.ask_no_model(self._parent, "No model yet", NO_MODEL.replace("<b>", "").replace("</b>", ""))
        if answer == "import":
            self.import_model()
        return answer

    def activate(self, version_id: str) -> bool:
        return self._change_model(lambda: self.versions.activate(version_id))

    def rollback(self) -> bool:
        return self._change_model(self.versions.rollback)

    def _change_model(self, change) -> bool:
        try:
            version = change()
        except MandibleStudioError as exc:
            dialogs.show_error(self._parent, "Cannot change the model", str(exc))
            return False
        self.refresh()
        self._status_bar.showMessage(f"Active model: {version.label}", 6000)
        self.version_activated.emit(version.version_id)
        return True

    def add_trained(self, version: ModelVersion) -> bool:
        """A retraining produced `version`: list it, and activate it when no model was active. True if activated."""
        activated = self.versions.active() is None
        if activated:
            self.activate(version.version_id)
        self.refresh()
        self.panel.select(version.version_id)
        return activated

    def import_model(self) -> bool:
        path = ask_model_file(self._parent)
        if not path or (self.import_task is not None and self.import_task.is_running):
            return False
        self.import_task = make_ai_task(lambda progress, cancel: self.versions.import_model(path),
                                        f"Importing {Path(path).name}", self)
        self.import_task.result.connect(lambda version: self.activate(version.version_id))
        self.import_task.failed.connect(lambda message: dialogs.show_error(self._parent, "Cannot import", message))
        self.import_task.start()
        return True

    def export_model(self, version_id: str | None = None) -> bool:
        version_id = version_id or self.panel.selected_id() or self.versions.active_id
        if version_id is None:
            return False
        path = ask_export_path(self._parent, f"{version_id}.msmodel")
        if not path:
            return False
        try:
            out = self.versions.export_model(version_id, path)
        except MandibleStudioError as exc:
            dialogs.show_error(self._parent, "Cannot export", str(exc))
            return False
        dialogs.show_saved(self._parent, "Model exported", "The model was saved as a file.", out)
        return True
