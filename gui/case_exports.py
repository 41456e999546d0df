"""What leaves the open case for the user's own folders: "Export 3-D…" (gui/export_dialog.py) and "Export Labelme
Dataset…" (the saved slices as PNG + JSON side by side, as Labelme expects). Both start in the folder the user
exported to last (kept in the workspace's settings.ini), else Documents or home, never the hidden workspace;
both end in a message with the full path and "Open Folder"."""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow

from core.annotation.label_volume import assemble_label_volume
from core.errors import Cancelled, MandibleStudioError
from core.io.slice_export import export_slice, export_window, read_slice_mask, slice_index_of
from core.windowing import DEFAULT_PRESET, WINDOW_PRESETS
from gui import dialogs
from gui.case_session import CaseSession

FOLDER_KEY = "export/folder"


def default_export_folder() -> Path:
    """Documents when the system has one, else home."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def saved_slices(case: CaseSession) -> list[int]:
    """The slices of the open case that have a saved Labelme JSON."""
    names = (slice_index_of(p.name) for p in case.store.annotations_dir.glob("*.json"))
    return sorted(i for i in names if i is not None and i < case.num_slices)


def export_saved_slices(case: CaseSession, out_dir: Path, progress=None,
                        cancel: threading.Event | None = None) -> int:
    """Write every saved slice of `case` (its Labelme JSON on disk, not unsaved edits) to `out_dir` as NNNN.png +
    NNNN.json; the number written. Raises Cancelled, LabelFileError or OSError."""
    indexes = saved_slices(case)
    window = export_window(case.volume, case.window or WINDOW_PRESETS[DEFAULT_PRESET])
    rows, cols = case.volume.shape[1:]
    out_dir.mkdir(parents=True, exist_ok=True)
    for step, index in enumerate(indexes):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"export cancelled after {step} of {len(indexes)} slices")
        mask, _ = read_slice_mask(case.store.annotation_path(index), rows, cols)
        export_slice(out_dir, index, case.volume, mask, window)
        if progress is not None:
            progress(step + 1, len(indexes), f"slice {index + 1}")
    return len(indexes)


class CaseExports(QObject):
    """The slots of the export actions; `window` runs the long jobs with its progress bar."""

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

    def export_3d(self) -> None:
        """Open the 3-D export dialog on every annotated slice of the open case."""
        session = self._window.session
        if session is None:
            return
        from gui.export_dialog import ExportDialog

        masks = {i: a.mask for i, a in session.annotations.items() if not a.is_empty}
        try:
            labels = assemble_label_volume(session.volume, masks).labels
        except MandibleStudioError as exc:
            dialogs.show_error(self._window, "Cannot export", str(exc))
            return
        self.export_dialog = ExportDialog(session.volume, labels, self._window, output_dir=self.folder,
                                          case_name=session.name)
        self.export_dialog.saved.connect(lambda path: self.remember_folder(Path(path).parent))
        self.export_dialog.open()

    def export_labelme_dataset(self) -> bool:
        """Ask for a folder, then write the saved slices there in the background; False when nothing started."""
        session = self._window.session
        if session is None:
            return False
        if not saved_slices(session):
            dialogs.show_error(self._window, "Nothing to export",
                               "No slice of this case is saved yet. Save your corrections (Ctrl+S) first.")
            return False
        folder = QFileDialog.getExistingDirectory(self._window, "Export Labelme dataset to a folder", str(self.folder))
        if not folder:
            return False
        out = Path(folder)
        unsaved = len(session.unsaved_indexes())
        return self._window.run_job(lambda progress, cancel: export_saved_slices(session, out, progress, cancel),
                                    "Exporting Labelme dataset",
                                    lambda count: self._on_dataset_written(out, count, unsaved),
                                    lambda message: dialogs.show_error(self._window, "Export failed", message))

    def _on_dataset_written(self, folder: Path, count: int, unsaved: int) -> None:
        self.remember_folder(folder)
        left_out = (f" {unsaved} slice(s) with unsaved edits were left out; save (Ctrl+S) and export again to "
                    "include them." if unsaved else "")
        dialogs.show_saved(self._window, "Labelme dataset exported",
                           f"Wrote {count} slice(s) as PNG + Labelme JSON.{left_out}", folder)
        self.dataset_exported.emit(str(folder), count)
