"""The slice list: one row per slice with its status (empty, predicted, edited, reviewed) and saved state."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from core.annotation.slice_status import SliceStatus

STATUS_COLORS = {
    SliceStatus.EMPTY: QColor(90, 90, 96),
    SliceStatus.PREDICTED: QColor(255, 170, 0),
    SliceStatus.EDITED: QColor(0, 200, 255),
    SliceStatus.REVIEWED: QColor(80, 220, 120),
}


def status_icon(status: SliceStatus, unsaved: bool) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(STATUS_COLORS[status])
    painter.drawEllipse(2, 2, 10, 10)
    if unsaved:
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(5, 5, 4, 4)
    painter.end()
    return QIcon(pixmap)


class SliceList(QListWidget):
    slice_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sliceList")
        self.setUniformItemSizes(True)
        self.currentRowChanged.connect(self._on_row)

    def set_slices(self, statuses: list[SliceStatus], unsaved: set[int]) -> None:
        self.blockSignals(True)
        self.clear()
        for index, status in enumerate(statuses):
            item = QListWidgetItem()
            self.addItem(item)
            self._fill(item, index, status, index in unsaved)
        self.blockSignals(False)

    def set_status(self, index: int, status: SliceStatus, unsaved: bool) -> None:
        item = self.item(index)
        if item is not None:
            self._fill(item, index, status, unsaved)

    def set_current(self, index: int) -> None:
        self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(False)
        item = self.item(index)
        if item is not None:
            self.scrollToItem(item)

    def _fill(self, item: QListWidgetItem, index: int, status: SliceStatus, unsaved: bool) -> None:
        suffix = " •unsaved" if unsaved else ""
        item.setText(f"{index + 1:4d}  {status.value}{suffix}")
        item.setIcon(status_icon(status, unsaved))
        item.setData(Qt.ItemDataRole.UserRole, status.value)
        item.setToolTip(f"Slice {index + 1}: {status.value}" + (" (not saved yet)" if unsaved else ""))

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.slice_selected.emit(row)
