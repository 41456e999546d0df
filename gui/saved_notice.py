"""The status bar's "Open Folder" button: after Ctrl+S it shows for a while, its tooltip the full path of the
folder just written, and a click opens that folder in the system's file browser."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QToolButton

from gui import dialogs

SHOWN_MS = 15_000


class OpenFolderButton(QToolButton):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("openSavedFolder")
        self.setText("Open Folder")
        self.folder: Path | None = None
        self._timer = QTimer(self, singleShot=True, interval=SHOWN_MS)
        self._timer.timeout.connect(self.hide)
        self.clicked.connect(lambda: self.folder is not None and dialogs.open_folder(self.folder))
        self.hide()

    def offer(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.setToolTip(f"Open {self.folder}")
        self.show()
        self._timer.start()
