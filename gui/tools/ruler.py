"""The ruler: press, drag and release to measure a distance on the slice in millimetres, from the CT's pixel
spacing. It changes no mask. A CT whose spacing is unknown (an image stack, a file without a voxel size) is
not measured: the ruler says so instead of showing pixels as millimetres."""
from __future__ import annotations

import math
from typing import Callable

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsSimpleTextItem

from gui.tools.base import Editor, Tool

RULER_RGB = (255, 221, 87)
NO_SPACING = ("This image has no known pixel size (no spacing in its files), so distances cannot be measured "
              "in mm. Open the CT from DICOM or NIfTI to measure.")


def distance_mm(start: QPointF, end: QPointF, spacing: tuple[float, float, float]) -> float:
    """The distance between two scene points (x = column, y = row) on a slice of a CT with `spacing`."""
    return math.hypot((end.x() - start.x()) * spacing[2], (end.y() - start.y()) * spacing[1])


class RulerTool(Tool):
    name = "ruler"

    def __init__(self, editor: Editor, report: Callable[[str], None]) -> None:
        super().__init__(editor)
        self._report = report
        self._line: QGraphicsLineItem | None = None
        self._label: QGraphicsSimpleTextItem | None = None
        self._start: QPointF | None = None
        self.length_mm: float | None = None  # the last distance measured

    def activate(self, view) -> None:
        super().activate(view)
        pen = QPen(QColor(*RULER_RGB))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        self._line = QGraphicsLineItem()
        self._line.setPen(pen)
        self._label = QGraphicsSimpleTextItem()
        self._label.setBrush(QColor(*RULER_RGB))
        self._label.setFont(QFont("", 11, QFont.Weight.Bold))
        self._label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
        for item in (self._line, self._label):
            item.setZValue(10)
            item.setVisible(False)
            view.scene().addItem(item)

    def deactivate(self) -> None:
        if self.view is not None:
            for item in (self._line, self._label):
                self.view.scene().removeItem(item)
        self._line = self._label = None
        super().deactivate()

    def refresh(self) -> None:
        """Another slice: the measurement belonged to the one before."""
        self._start = None
        for item in (self._line, self._label):
            if item is not None:
                item.setVisible(False)

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if not self.editor.volume.spacing_known:
            self._report(NO_SPACING)
            return
        self._start = QPointF(pos)
        self._show(pos)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._start is not None:
            self._show(pos)

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._start is not None:
            self._show(pos)
            self._report(f"Distance: {self._label.text()}")
            self._start = None

    def _show(self, end: QPointF) -> None:
        self.length_mm = distance_mm(self._start, end, self.editor.volume.spacing)
        self._line.setLine(QLineF(self._start, end))
        self._label.setText(f"{self.length_mm:.1f} mm")
        self._label.setPos(end)
        for item in (self._line, self._label):
            item.setVisible(True)
