"""A small line chart drawn with QPainter: training error (loss) per report, plus the held-out match (Dice, 0..1)
per round. The axis labels get the room their text needs in the widget's font, so none is cut."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LOSS_COLOR = QColor(255, 170, 0)
DICE_COLOR = QColor(80, 220, 120)
PAD = 6


class LossChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossChart")
        self.setMinimumSize(220, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Orange: training error (loss). Green dots: match (Dice) on the cases kept aside.")
        self.losses: list[float] = []
        self.dice: list[tuple[int, float]] = []  # (reports so far at the round's end, Dice)

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

    def axis_labels(self) -> list[tuple[QRectF, str]]:
        """Where the value axis' labels go (top and bottom of the error scale) and their text."""
        top = f"{max(self.losses):.3g}" if self.losses else "1"
        metrics = self.fontMetrics()
        width = max(metrics.horizontalAdvance(text) for text in (top, "0")) + PAD
        plot = self.plot_rect()
        height = metrics.height()
        return [(QRectF(0, plot.top() - height / 2, width, height), top),
                (QRectF(0, plot.bottom() - height / 2, width, height), "0")]

    def plot_rect(self) -> QRectF:
        metrics = self.fontMetrics()
        top = f"{max(self.losses):.3g}" if self.losses else "1"
        left = max(metrics.horizontalAdvance(text) for text in (top, "0")) + 2 * PAD
        bottom = metrics.height() + PAD
        return QRectF(left, metrics.height() / 2 + 2, max(10.0, self.width() - left - PAD),
                      max(10.0, self.height() - bottom - metrics.height() / 2 - 2))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        plot = self.plot_rect()
        painter.setPen(QPen(QColor(120, 120, 128), 1))
        painter.drawRect(plot)
        if not self.losses:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "the training error appears here")
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
        for rect, text in self.axis_labels():
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        legend = f"training error {self.losses[-1]:.4f}" + (f"   match {self.dice[-1][1]:.3f}" if self.dice else "")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), self.fontMetrics().height() + 2),
                         Qt.AlignmentFlag.AlignLeft, legend)
