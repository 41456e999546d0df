"""The few questions and messages the main window asks and shows. Tests monkeypatch these Qt calls."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from core.io.dicom import SeriesInfo

MAX_WARNINGS_SHOWN = 8


def show_error(parent: QWidget, title: str, message: str) -> None:
    """A plain message (never a traceback); the app stays usable afterwards."""
    QMessageBox.warning(parent, title, message)


def show_warnings(parent: QWidget, title: str, warnings: list[str]) -> None:
    shown = warnings[:MAX_WARNINGS_SHOWN]
    more = len(warnings) - len(shown)
    text = "\n".join(f"• {w}" for w in shown) + (f"\n… and {more} more" if more > 0 else "")
    QMessageBox.warning(parent, title, text)


def ask_save_changes(parent: QWidget, count: int) -> str:
    """'save', 'keep' (close; the edits stay as a draft restored on reopening) or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits",
                      f"{count} slice(s) have edits that are not saved as Labelme JSON yet.",
                      parent=parent)
    box.setInformativeText("Save them now? \"Close, Keep Draft\" writes nothing as Labelme JSON; the edits "
                           "stay in the workspace as a draft and come back when you open this case again.")
    save = box.addButton("Save", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("Close, Keep Draft", QMessageBox.ButtonRole.RejectRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "keep" if clicked is keep else "cancel"


def choose_series(parent: QWidget, series: list[SeriesInfo]) -> str | None:
    """Series picker for a DICOM folder holding several series; the chosen UID or None."""
    labels = [s.label() for s in series]
    label, ok = QInputDialog.getItem(parent, "Choose a series", "This folder holds several series:", labels, 0, False)
    return series[labels.index(label)].uid if ok and label in labels else None


def choose_files(parent: QWidget, title: str, filters: str = "", folder: bool = False) -> list[str]:
    if folder:
        path = QFileDialog.getExistingDirectory(parent, title)
        return [path] if path else []
    path, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
    return [path] if path else []
