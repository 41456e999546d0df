"""A small line chart drawn with QPainter: training loss per step, plus validation Dice per epoch (0..1)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LOSS_COLOR = QColor(255, 170, 0)
DICE_COLOR = QColor(80, 220, 120)
MARGIN = 28


class LossChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossChart")
        self.setMinimumSize(220, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.losses: list[float] = []
        self.dice: list[tuple[int, float]] = []  # (step count at the epoch's end, Dice)

    def clear(self) -> None:
        self.losses.clear()
        self.dice.clear()
        self.update()

    def add_loss(self, loss: float) -> None:
        if math.isfinite(loss):
            self.losses.append(float(loss))
            self.update()

    def add_dice(self, dice: float) -> None:
        self.dice.append((len(self.losses), float(dice)))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        plot = QRectF(MARGIN, 8, max(10, self.width() - MARGIN - 8), max(10, self.height() - MARGIN))
        painter.setPen(QPen(QColor(120, 120, 128), 1))
        painter.drawRect(plot)
        if not self.losses:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "loss curve appears here")
            return
        top = max(self.losses) or 1.0
        count = max(2, len(self.losses))

        def point(step: int, value: float, high: float) -> QPointF:
            return QPointF(plot.left() + plot.width() * step / (count - 1),
                           plot.bottom() - plot.height() * min(max(value / high, 0.0), 1.0))

        path = QPainterPath(point(0, self.losses[0], top))
        for step, loss in enumerate(self.losses[1:], start=1):
            path.lineTo(point(step, loss, top))
        painter.setPen(QPen(LOSS_COLOR, 1.5))
        painter.drawPath(path)
        painter.setPen(QPen(DICE_COLOR, 1.5))
        for step, dice in self.dice:
            painter.drawEllipse(point(max(0, step - 1), dice, 1.0), 3, 3)
        painter.setPen(QColor(200, 200, 205))
        painter.drawText(QRectF(2, plot.top() - 4, MARGIN - 4, 14), Qt.AlignmentFlag.AlignRight, f"{top:.2g}")
        legend = f"loss {self.losses[-1]:.4f}" + (f"   Dice {self.dice[-1][1]:.3f}" if self.dice else "")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), 16), Qt.AlignmentFlag.AlignLeft, legend)
