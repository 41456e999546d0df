"""The slice list: one row per slice with its number (counted from 1), status, how sure the model was on a
predicted slice, and whether it is saved."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from core.annotation.slice_status import SliceStatus

STATUS_COLORS = {
    SliceStatus.EMPTY: QColor(90, 90, 96),
    SliceStatus.PREDICTED: QColor(255, 170, 0),
    SliceStatus.EDITED: QColor(0, 200, 255),
    SliceStatus.REVIEWED: QColor(80, 220, 120),
    SliceStatus.INTERPOLATED: QColor(200, 130, 255),
}


@dataclass(frozen=True)
class SliceRow:
    """What one row shows."""

    status: SliceStatus = SliceStatus.EMPTY
    unsaved: bool = False
    confidence: float | None = None  # of the model's prediction, shown while the slice is PREDICTED
    found: bool = True  # False: a prediction in which the model found no mandible

    @property
    def no_mandible(self) -> bool:
        return self.status is SliceStatus.PREDICTED and not self.found

    @property
    def label(self) -> str:
        return "no mandible" if self.no_mandible else self.status.value

    @property
    def shown_confidence(self) -> str:
        if self.status is not SliceStatus.PREDICTED or self.confidence is None:
            return ""
        return f"{round(self.confidence * 100):d}% sure"


def status_icon(row: SliceRow) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if row.no_mandible:  # looked at, nothing found: a hollow ring, not a filled dot
        painter.setPen(QPen(STATUS_COLORS[row.status], 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(STATUS_COLORS[row.status])
    painter.drawEllipse(2, 2, 10, 10)
    painter.setPen(Qt.PenStyle.NoPen)
    if row.unsaved:
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

    def set_rows(self, rows: list[SliceRow]) -> None:
        self.blockSignals(True)
        self.clear()
        for index, row in enumerate(rows):
            item = QListWidgetItem()
            self.addItem(item)
            self._fill(item, index, row)
        self.blockSignals(False)

    def set_row(self, index: int, row: SliceRow) -> None:
        item = self.item(index)
        if item is not None:
            self._fill(item, index, row)

    def set_current(self, index: int) -> None:
        self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(False)
        item = self.item(index)
        if item is not None:
            self.scrollToItem(item)

    def _fill(self, item: QListWidgetItem, index: int, row: SliceRow) -> None:
        sure = f"  {row.shown_confidence}" if row.shown_confidence else ""
        item.setText(f"{index + 1:4d}  {row.label}{sure}" + (" •unsaved" if row.unsaved else ""))
        item.setIcon(status_icon(row))
        item.setData(Qt.ItemDataRole.UserRole, row.status.value)
        how_sure = (f"; the model was {row.shown_confidence} (the share of the bone outline it is certain about)"
                    if sure else "")
        nothing = "; not training data unless you mark it reviewed (R)" if row.no_mandible else ""
        item.setToolTip(f"Slice {index + 1}: {row.label}{how_sure}{nothing}"
                        + (" (not saved yet)" if row.unsaved else ""))

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.slice_selected.emit(row)
