"""Undo, Redo and Edit ▸ History over the open case's one case-wide history (core/workspace/history.py).

Undo and Redo say in their tooltip what they would take back ("Undo Interpolate — slices 41–49") and act on the
latest entry of the case, whatever slice is on screen. The History list shows every entry, the undone ones greyed;
a click on a row undoes or redoes up to it. The core history is the truth: this is a view of it.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from gui.case_session import CaseSession
from gui.window_actions import Actions, tooltip

UNDONE_RGB = (120, 120, 128)


class HistoryDialog(QDialog):
    """Edit ▸ History: the entries of the open case; row 0 is the case as it was opened."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("History")
        self.setObjectName("historyDialog")
        self.session: CaseSession | None = None
        self.list = QListWidget(objectName="historyList")
        self.list.itemClicked.connect(self._on_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Each line is one action on this case. Ctrl+Z takes back the last one, whole, "
                                "from any slice; click a line to go back (or forward) to it.", wordWrap=True))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(420, 360)

    def set_session(self, session: CaseSession | None) -> None:
        self.session = session
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        session = self.session
        if session is None:
            return
        position = session.history_position()
        self.list.addItem(f"Opened {session.name}")
        for number, entry in enumerate(session.history_entries(), 1):
            item = QListWidgetItem(entry.label())
            if number > position:
                item.setForeground(QBrush(QColor(*UNDONE_RGB)))
                item.setToolTip("Undone: Ctrl+Y (or a click) does it again")
            self.list.addItem(item)
        self.list.setCurrentRow(position)

    def texts(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if self.session is not None:
            self.session.go_to_history(self.list.row(item))


class CaseHistoryActions(QObject):
    """Keeps Undo / Redo's tooltips and the History list in step with the open case's history (whether they are
    enabled is their rule in gui/actions.py; Edit ▸ History calls `show`)."""

    def __init__(self, actions: Actions, window: QWidget) -> None:
        super().__init__(window)
        self._actions = actions
        self.session: CaseSession | None = None
        self.dialog = HistoryDialog(window)
        self.set_session(None)

    def set_session(self, session: CaseSession | None) -> None:
        if self.session is not None:
            self.session.history_changed.disconnect(self._on_history)
        self.session = session
        if session is not None:
            session.history_changed.connect(self._on_history)
        self.dialog.set_session(session)
        self._on_history()

    def show(self) -> HistoryDialog:
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _on_history(self) -> None:
        session = self.session
        for key, entry in (("undo", session.next_undo() if session is not None else None),
                           ("redo", session.next_redo() if session is not None else None)):
            action = self._actions[key]
            what = f"{key.capitalize()} {entry.label()}" if entry is not None else f"Nothing to {key}"
            action.setToolTip(tooltip(action.text(), what, self._actions.spec(key).shortcuts))
            action.setStatusTip(what)
        if self.dialog.isVisible():
            self.dialog.refresh()
