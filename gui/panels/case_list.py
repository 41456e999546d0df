"""The workspace's cases, most recently opened first when the window opens; the order then stays put while the
window is open (a case that was clicked does not jump away under the mouse), new cases come in at the top. A click
(or Enter) opens one; Ctrl+click and Shift+click select several (for Segment Cases…); the context menu renames a
case, segments it, removes it from the list or shows its CT's folder. The list asks; the window decides."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListWidget, QListWidgetItem, QMenu


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    name: str
    source: str  # the CT's path ("" when unknown)
    summary: str


class CaseList(QListWidget):
    case_activated = Signal(str)  # the case's source path
    remove_requested = Signal(str)  # case id
    rename_requested = Signal(str)  # case id
    show_folder_requested = Signal(str)  # the case's source path
    segment_requested = Signal()  # segment the selected cases (gui/ai/segmenting_cases.py)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("caseList")
        self._rows: list[CaseRow] = []
        self._current: str | None = None
        self._order: list[str] = []  # case ids in the order first shown
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.itemClicked.connect(self._on_clicked)  # one click opens, as in a file browser's list
        self.itemActivated.connect(self._on_activated)  # Enter
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

    def set_cases(self, rows: list[CaseRow], current: str | None) -> None:
        """current: the open case's source path. Cases already listed keep their place."""
        self.clear()
        known = {case_id: n for n, case_id in enumerate(self._order)}
        new = [row for row in rows if row.case_id not in known]
        rows = new + sorted((row for row in rows if row.case_id in known), key=lambda row: known[row.case_id])
        self._order = [row.case_id for row in rows]
        self._rows, self._current = list(rows), current
        for row in rows:
            item = QListWidgetItem(f"{row.name}\n{row.summary}" if row.summary else row.name)
            item.setToolTip(row.source)
            self.addItem(item)
            if row.source and row.source == current:
                self.setCurrentItem(item)

    def row_of(self, item: QListWidgetItem) -> CaseRow:
        return self._rows[self.row(item)]

    def selected_case_ids(self) -> list[str]:
        """The selected cases, in list order."""
        return [self._rows[row].case_id for row in sorted(index.row() for index in self.selectedIndexes())]

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if not QApplication.keyboardModifiers() & (Qt.KeyboardModifier.ControlModifier
                                                   | Qt.KeyboardModifier.ShiftModifier):  # selecting several
            self._on_activated(item)

    def _on_activated(self, item: QListWidgetItem) -> None:
        row = self.row_of(item)
        if row.source and row.source != self._current:  # clicking the open case does not reload it
            self.case_activated.emit(row.source)

    def context_menu(self, item: QListWidgetItem) -> QMenu:
        """The menu of one case: Open, Show in Folder, Remove from List…"""
        row = self.row_of(item)
        menu = QMenu(self)
        is_open = bool(row.source) and row.source == self._current
        opening = menu.addAction("Open", lambda: self.case_activated.emit(row.source))
        opening.setEnabled(bool(row.source) and not is_open)
        folder = menu.addAction("Show in Folder", lambda: self.show_folder_requested.emit(row.source))
        folder.setEnabled(bool(row.source))
        menu.addAction("Rename…", lambda: self.rename_requested.emit(row.case_id))
        count = len(self.selectedIndexes())
        several = item.isSelected() and count > 1
        menu.addAction(f"Segment {count} Selected Cases…" if several else "Segment This Case…",
                       lambda: self._segment(None if several else item))
        menu.addSeparator()
        remove = menu.addAction("Remove from List…", lambda: self.remove_requested.emit(row.case_id))
        remove.setEnabled(not is_open)
        if is_open:
            remove.setToolTip("Open another case first: the open case cannot be removed")
        menu.setToolTipsVisible(True)
        return menu

    def _segment(self, only: QListWidgetItem | None) -> None:
        """Segment the selection, or only the case whose menu it is."""
        if only is not None:
            self.setCurrentItem(only, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.segment_requested.emit()

    def _show_menu(self, position: QPoint) -> None:
        item = self.itemAt(position)
        if item is not None:
            self.context_menu(item).exec(self.viewport().mapToGlobal(position))
