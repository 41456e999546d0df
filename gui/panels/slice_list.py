"""The slice list: one row per slice with its number (counted from 1), status, how sure the model was on a
predicted slice, and whether it is saved; a filter above it shows only the predicted, interpolated, propagated,
low-confidence or not-reviewed slices (core/workspace/review.py). The dots have the overlay's colours (the
legend is in the overlay panel)."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.annotation.slice_status import SliceStatus
from core.workspace.review import SliceFilter
from gui.overlay import CARRIED_RGB, EDITED_RGB, PREDICTED_RGB

REVIEWED_RGB = (80, 220, 120)
STATUS_COLORS = {
    SliceStatus.EMPTY: QColor(90, 90, 96),
    SliceStatus.PREDICTED: QColor(*PREDICTED_RGB),
    SliceStatus.EDITED: QColor(*EDITED_RGB),
    SliceStatus.REVIEWED: QColor(*REVIEWED_RGB),
    SliceStatus.INTERPOLATED: QColor(*CARRIED_RGB),
    SliceStatus.PROPAGATED: QColor(*CARRIED_RGB),
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
        return f"{round(self.confidence * 100):d}%"


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
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)  # Shift+click: a range to mark reviewed
        self.currentRowChanged.connect(self._on_row)
        self._rows: list[SliceRow] = []
        self.filter = SliceFilter.ALL
        self.filter_box = QComboBox(objectName="sliceFilter")
        self.filter_box.setToolTip("Show only some slices (the arrow keys and the slider still go through all)")
        for choice in SliceFilter:
            self.filter_box.addItem(choice.value, choice)
        self.filter_box.currentIndexChanged.connect(lambda i: self.set_filter(self.filter_box.itemData(i)))

    def widest_row(self) -> int:
        """Pixels the longest row takes ("128  no mandible 100% •unsaved"), icon and scroll bar included: the left
        column is at least this wide, so that nothing is cut off (issue 18 K)."""
        self.ensurePolished()  # the style sheet's font, not the default one
        text = f"{9999:4d}  no mandible 100% •unsaved"
        return (self.fontMetrics().horizontalAdvance(text) + self.iconSize().width() + 48  # paddings, borders
                + self.verticalScrollBar().sizeHint().width())

    def panel(self) -> QWidget:
        """The list with its filter above it, for the window's left column."""
        widget = QWidget(objectName="slicePanel")
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filter_box)
        layout.addWidget(self)
        return widget

    def set_rows(self, rows: list[SliceRow]) -> None:
        self.blockSignals(True)
        self.clear()
        self._rows = list(rows)
        for index, row in enumerate(rows):
            item = QListWidgetItem()
            self.addItem(item)
            self._fill(item, index, row)
        self.blockSignals(False)
        self._count()

    def set_row(self, index: int, row: SliceRow) -> None:
        item = self.item(index)
        if item is not None:
            self._rows[index] = row
            self._fill(item, index, row)
            self._count()

    def set_filter(self, choice: SliceFilter) -> None:
        """Show only the slices `choice` keeps."""
        self.filter = SliceFilter(choice)
        self.filter_box.setCurrentIndex(list(SliceFilter).index(self.filter))
        for index, row in enumerate(self._rows):
            self.setRowHidden(index, not self._shows(row))

    def shown(self) -> list[int]:
        """The slices the list shows now (0-based)."""
        return [i for i in range(self.count()) if not self.isRowHidden(i)]

    def _shows(self, row: SliceRow) -> bool:
        return self.filter.shows(row.status, row.confidence)

    def _count(self) -> None:
        for position, choice in enumerate(SliceFilter):
            count = sum(1 for row in self._rows if choice.shows(row.status, row.confidence))
            self.filter_box.setItemText(position, f"{choice.value} ({count})")

    def set_current(self, index: int) -> None:
        self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(False)
        item = self.item(index)
        if item is not None:
            self.scrollToItem(item)

    def _fill(self, item: QListWidgetItem, index: int, row: SliceRow) -> None:
        sure = f" {row.shown_confidence}" if row.shown_confidence else ""
        item.setText(f"{index + 1:4d}  {row.label}{sure}" + (" •unsaved" if row.unsaved else ""))
        item.setIcon(status_icon(row))
        item.setData(Qt.ItemDataRole.UserRole, row.status.value)
        item.setHidden(not self._shows(row))
        how_sure = (f"; {row.shown_confidence} sure (the share of the mask and its surroundings that the model or "
                    "the CT clearly backs)" if sure else "")
        nothing = "; not training data unless you mark it reviewed (R)" if row.no_mandible else ""
        item.setToolTip(f"Slice {index + 1}: {row.label}{how_sure}{nothing}"
                        + (" (not saved yet)" if row.unsaved else ""))

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.slice_selected.emit(row)
