"""The workspace's cases, most recently opened first; double-click or Enter opens one."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem


class CaseList(QListWidget):
    case_activated = Signal(str)  # the case's source path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("caseList")
        self.itemActivated.connect(self._on_activated)

    def set_cases(self, cases: list[tuple[str, str, str]], current: str | None) -> None:
        """cases: (name, source path, summary) tuples."""
        self.clear()
        for name, source, summary in cases:
            item = QListWidgetItem(f"{name}\n{summary}" if summary else name)
            item.setData(Qt.ItemDataRole.UserRole, source)
            item.setToolTip(source)
            self.addItem(item)
            if source == current:
                self.setCurrentItem(item)

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.case_activated.emit(item.data(Qt.ItemDataRole.UserRole))
