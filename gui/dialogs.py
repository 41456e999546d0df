"""The few questions and messages the main window asks and shows. Tests monkeypatch these Qt calls."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QVBoxLayout, QWidget)

from core.io.dicom import SeriesInfo
from core.io.dicom_decode import THUMBNAIL_SIZE

MAX_WARNINGS_SHOWN = 8


def show_error(parent: QWidget, title: str, message: str) -> None:
    """A plain message (never a traceback); the app stays usable afterwards."""
    QMessageBox.warning(parent, title, message)


def show_warnings(parent: QWidget, title: str, warnings: list[str]) -> None:
    shown = warnings[:MAX_WARNINGS_SHOWN]
    more = len(warnings) - len(shown)
    text = "\n".join(f"• {w}" for w in shown) + (f"\n… and {more} more" if more > 0 else "")
    QMessageBox.warning(parent, title, text)


def open_folder(path: str | Path) -> bool:
    """Show a folder (or the folder holding a file) in the system's file browser; False when none could."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def show_saved(parent: QWidget, title: str, what: str, path: str | Path) -> QMessageBox:
    """A file or folder was written: say what, with its full path, and offer to open its folder. The message does
    not block (work can go on while it shows); it is returned for whoever wants to click it."""
    path = Path(path)
    box = QMessageBox(QMessageBox.Icon.Information, title, f"{what}\n\n{path}", parent=parent)
    box.setObjectName("savedMessage")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    open_button = box.addButton("Open Folder", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Ok)
    box.buttonClicked.connect(lambda button: open_folder(path) if button is open_button else None)
    box.open()
    return box


def confirm(parent: QWidget, title: str, text: str, yes: str) -> bool:
    """A yes/no question whose yes button says what it does; Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is yes_button


def ask_replace(parent: QWidget, text: str) -> bool:
    """Before an export replaces anything: `text` says what and where; Cancel is the default."""
    return confirm(parent, "Replace?", text, "Replace")


def ask_text(parent: QWidget, title: str, label: str, text: str) -> str | None:
    """One line of text the user types (starting from `text`); None when cancelled."""
    answer, ok = QInputDialog.getText(parent, title, label, text=text)
    return answer if ok else None


def ask_save_changes(parent: QWidget, count: int) -> str:
    """'save', 'keep' (close; the edits stay as a draft restored on reopening) or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits",
                      f"{count} slice(s) have your edits, reviews or interpolations that are not saved as "
                      "Labelme JSON yet.",
                      parent=parent)
    box.setInformativeText("Save them now? \"Close, Keep for Later\" writes nothing as Labelme JSON; the edits "
                           "stay in the workspace, unsaved, and come back when you open this case again.")
    save = box.addButton("Save", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("Close, Keep for Later", QMessageBox.ButtonRole.RejectRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "keep" if clicked is keep else "cancel"


def ask_no_model(parent: QWidget, title: str, text: str) -> str | None:
    """The no-model question: 'import' (Import model…), 'train' (Train…) or None (Close)."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    import_button = box.addButton("Import model…", QMessageBox.ButtonRole.AcceptRole)
    train_button = box.addButton("Train…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(import_button)
    box.exec()
    clicked = box.clickedButton()
    return "import" if clicked is import_button else "train" if clicked is train_button else None


class SeriesChooser(QDialog):
    """One row per series: its thumbnail, the patient (name, ID, birth and study date) and what it is."""

    def __init__(self, parent: QWidget | None, series: list[SeriesInfo]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a series")
        self.series = series
        self.list = QListWidget(objectName="seriesList")
        self.list.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        for info in series:
            item = QListWidgetItem(series_text(info))
            item.setToolTip(f"Series {info.series_number if info.series_number is not None else '?'} · {info.uid}")
            if info.thumbnail is not None:
                item.setIcon(QIcon(gray_pixmap(info.thumbnail)))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("This folder holds several series. Check the patient, then choose one:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(620, 420)

    def chosen_uid(self) -> str | None:
        row = self.list.currentRow()
        return self.series[row].uid if 0 <= row < len(self.series) else None


def series_text(info: SeriesInfo) -> str:
    """Two lines: who (patient) and what (description, modality, files, size)."""
    what = f"{info.description or '(no description)'} — {info.modality or '?'}, {info.extent()}, " \
           f"{info.rows}x{info.cols}"
    return f"{info.patient.summary()}\n{what}"


def gray_pixmap(pixels: np.ndarray) -> QPixmap:
    """A QPixmap of a uint8 [rows, cols] image."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    rows, cols = pixels.shape
    image = QImage(pixels.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())


def choose_series(parent: QWidget, series: list[SeriesInfo]) -> str | None:
    """Series picker for a DICOM folder holding several series; the chosen UID or None."""
    chooser = SeriesChooser(parent, series)
    accepted = chooser.exec() == QDialog.DialogCode.Accepted
    return chooser.chosen_uid() if accepted else None


def choose_files(parent: QWidget, title: str, filters: str = "", folder: bool = False) -> list[str]:
    if folder:
        path = QFileDialog.getExistingDirectory(parent, title)
        return [path] if path else []
    path, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
    return [path] if path else []
