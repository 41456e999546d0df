"""What leaves the open case for the user's own folders: "Export 3-D…" (gui/export_dialog.py) and "Export Labelme
Dataset…" (core.export.labelme_dataset: the saved slices, copied exactly). Both go to the case's own folder inside
the folder the user chose (`<chosen>/<case>/`, core.export.case_folder), never into another case's, and ask before
replacing anything. Both start in the folder the user exported to last (kept in the workspace's settings.ini),
else Documents or home, never the hidden workspace; both end in a message with the full path and "Open Folder"."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow

from core.annotation.label_volume import DEFAULT_EXPORT_STATUSES, assemble_label_volume
from core.errors import MandibleStudioError
from core.export.case_folder import CaseFolder, case_folder
from core.export.exporters import EXPORTERS, ExportSource
from core.export.labelme_dataset import DatasetWritten, earlier_export, saved_slices
from gui import dialogs

FOLDER_KEY = "export/folder"
DATASET = EXPORTERS["labelme_dataset"]


def default_export_folder() -> Path:
    """Documents when the system has one, else home."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


class CaseExports(QObject):
    """The callbacks of the export actions (gui/actions.py); `window` runs the long jobs with its progress bar."""

    dataset_exported = Signal(str, int)  # folder, slices written

    def __init__(self, window: QMainWindow, settings_path: Path) -> None:
        super().__init__(window)
        self._window = window
        self.settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        self.export_dialog = None

    @property
    def folder(self) -> Path:
        """Where the next export starts: the folder used last, while it exists; else Documents or home."""
        saved = self.settings.value(FOLDER_KEY, "", str)
        return Path(saved) if saved and Path(saved).is_dir() else default_export_folder()

    def remember_folder(self, folder: str | Path) -> None:
        self.settings.setValue(FOLDER_KEY, str(folder))
        self.settings.sync()

    def case_folder(self, root: Path | None = None) -> CaseFolder:
        """The open case's export folder in `root` (by default the folder used last)."""
        session = self._window.session
        return case_folder(root or self.folder, session.case_id, session.name)

    def export_3d(self) -> None:
        """Open the 3-D export dialog on the open case's slices (those the one default exports)."""
        session = self._window.session
        if session is None:
            return
        from gui.export_dialog import ExportDialog

        masks = {i: a.mask for i, a in session.annotations.items() if not a.is_empty}
        statuses = {i: session.status(i) for i in masks}
        try:
            labels = assemble_label_volume(session.volume, masks, statuses, DEFAULT_EXPORT_STATUSES).labels
            folder = self.case_folder()
        except MandibleStudioError as exc:
            dialogs.show_error(self._window, "Cannot export", str(exc))
            return
        self.export_dialog = ExportDialog(session.volume, labels, self._window, folder=folder,
                                          case_name=session.name)
        self.export_dialog.saved.connect(lambda path: self.remember_folder(_root_of(Path(path), folder)))
        self.export_dialog.open()

    def export_labelme_dataset(self) -> bool:
        """Ask for a folder, then copy the saved slices to the case's folder in it in the background (asking
        before an earlier export of the case is replaced); False when nothing started."""
        session = self._window.session
        if session is None:
            return False
        if not saved_slices(session.store):
            dialogs.show_error(self._window, "Nothing to export",
                               "No slice of this case is saved yet. Save your corrections (Ctrl+S) first.")
            return False
        chosen = QFileDialog.getExistingDirectory(self._window, "Export Labelme dataset to a folder", str(self.folder))
        if not chosen:
            return False
        try:
            folder = self.case_folder(Path(chosen))
        except MandibleStudioError as exc:
            dialogs.show_error(self._window, "Cannot export", str(exc))
            return False
        earlier = earlier_export(folder)
        if earlier and not dialogs.ask_replace(
                self._window, f"{folder.path} already holds an earlier export of this case ({len(earlier)} files). "
                              "Replace it with the slices saved now?"):
            return False
        unsaved = len(session.unsaved_indexes())
        source = ExportSource(store=session.store)
        return self._window.run_job(lambda progress, cancel: DATASET.write(folder, source, progress, cancel),
                                    "Exporting Labelme dataset",
                                    lambda written: self._on_dataset_written(Path(chosen), written, unsaved),
                                    lambda message: dialogs.show_error(self._window, "Export failed", message))

    def _on_dataset_written(self, chosen: Path, written: DatasetWritten, unsaved: int) -> None:
        self.remember_folder(chosen)
        left_out = (f" {unsaved} slice(s) with unsaved edits were left out; save (Ctrl+S) and export again to "
                    "include them." if unsaved else "")
        dialogs.show_saved(self._window, "Labelme dataset exported",
                           f"Wrote {len(written.slices)} slice(s) as PNG + Labelme JSON.{left_out}", written.folder)
        self.dataset_exported.emit(str(written.folder), len(written.slices))


def _root_of(written: Path, folder: CaseFolder) -> Path:
    """Where the next export starts: the folder that holds the case's folder, or wherever the user saved."""
    return folder.path.parent if folder.owns(written) else written.parent
