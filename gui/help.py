"""Help: the keyboard sheet (F1), generated from the action registry (gui/actions.py) so that it cannot drift from
the shortcuts that work, and About (the version, the active model and its scores, the data folder)."""
from __future__ import annotations

from importlib import metadata

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QMainWindow, QMessageBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from core.app_paths import DISPLAY_NAME
from gui.actions import ActionSpec, in_menu_order
from gui.window_actions import native_keys

# Mouse gestures and held keys: the slice view handles them itself, so they are not actions.
GESTURES = (
    ("Next / previous slice", "Mouse wheel"),
    ("Zoom at the cursor", "Ctrl + mouse wheel"),
    ("Pan", "Middle-drag, or Space + left-drag"),
    ("Window / level (brightness, contrast)", "Right-drag"),
    ("Peek under the overlay", "Hold Q"),
    ("Move the crosshair (2×2 layout)", "Click in the coronal, sagittal or 3-D view; Ctrl+click in the axial view "
     "(in every view with the 3-D click tool)"),
    ("Seeded fill: remove the region under the click", "Shift+click"),
    ("3-D click: add the missed bone in every slice", "Click (any view)"),
    ("3-D click: remove a wrong piece in 3-D", "Shift+click (any view)"),
)


def action_rows(specs: list[ActionSpec]) -> list[tuple[str, str]]:
    """(what it does, its keys) for every action, in the menus' order; one without a shortcut names its menu."""
    return [(spec.text.replace("&", "").rstrip("…"),
             native_keys(spec.shortcuts) or f"{spec.menu[0].replace('&', '')} menu") for spec in specs]


class ShortcutSheet(QDialog):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutSheet")
        rows = action_rows(in_menu_order()) + list(GESTURES)
        self.table = QTableWidget(len(rows), 2, objectName="shortcutTable")
        self.table.setHorizontalHeaderLabels(("Action", "Keys"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()  # every action's name whole; the long keys (gestures) wrap
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Every action and shortcut of {DISPLAY_NAME}. Menus and tooltips show them too."))
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        available = parent.screen().availableGeometry() if parent is not None else None
        height = min(720, int(available.height() * 0.85)) if available is not None else 720
        width = min(760, int(available.width() * 0.9)) if available is not None else 760
        self.resize(width, height)
        self.table.resizeRowsToContents()

    def texts(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]


def app_version() -> str:
    try:
        return metadata.version("mandible-studio")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def about_text(version: str, model, data_folder) -> str:
    """What About says; `model` is the active ModelVersion or None."""
    if model is None:
        model_text = "No model is active (AI → Import Model…, or Retrain)."
    else:
        metrics = model.metrics or {}
        scores = []
        if metrics.get("dice") is not None:
            scores.append(f"overlap with the expert outline {metrics['dice']:.3f} (Dice)")
        if metrics.get("miou") is not None:
            scores.append(f"{metrics['miou']:.3f} (mean IoU)")
        model_text = f"{model.label} ({model.origin})" + (f": {', '.join(scores)} on its check slices" if scores
                                                        else "; no scores recorded")
    return (f"<b>{DISPLAY_NAME}</b> {version}<br><br>Segments the mandible in CT and lets you correct it.<br><br>"
            f"<b>Active model:</b> {model_text}<br><b>Data folder:</b> {data_folder}")


class Help(QObject):
    """The Help menu's slots."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.sheet: ShortcutSheet | None = None

    def show_shortcuts(self) -> ShortcutSheet:
        self.sheet = ShortcutSheet(self._window)
        self.sheet.open()
        return self.sheet

    def show_about(self) -> None:
        window = self._window
        model = window.ai.models.versions.active()
        QMessageBox.about(window, f"About {DISPLAY_NAME}", about_text(app_version(), model, window.workspace.root))
