"""The live training panel: stage, epoch, loss curve, validation MIoU and Dice per epoch, ETA, Cancel / Resume."""
from __future__ import annotations

from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from core.training.trainer import TrainingProgress
from gui.ai.loss_chart import LossChart

COLUMNS = ("Epoch", "Stage", "Loss", "Val MIoU", "Val Dice")


class TrainingPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        layout = QVBoxLayout(self)
        self.state = QLabel("No training running.", objectName="trainingState", wordWrap=True)
        self.stage = QLabel(objectName="trainingStage")
        self.epoch = QLabel(objectName="trainingEpoch")
        self.eta = QLabel(objectName="trainingEta")
        self.bar = QProgressBar(objectName="trainingProgress", textVisible=True)
        self.chart = LossChart()
        self.table = QTableWidget(0, len(COLUMNS), objectName="trainingEpochs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.cancel_button = QPushButton("Cancel", objectName="trainingCancel", enabled=False)
        self.resume_button = QPushButton("Resume", objectName="trainingResume", enabled=False)
        self.cancel_button.setToolTip("Stop after the current step; the last finished epoch is kept for Resume")
        self.resume_button.setToolTip("Continue the interrupted run from its last finished epoch")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        for widget in (self.state, self.stage, self.epoch, self.eta, self.bar):
            layout.addWidget(widget)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def start(self, resumed: bool) -> None:
        if not resumed:
            self.chart.clear()
            self.table.setRowCount(0)
        self.state.setText("Resuming the interrupted run…" if resumed else "Gathering the training slices…")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.resume_button.setEnabled(False)

    def show_data(self, summary: dict) -> None:
        self.state.setText(f"Training on {summary['slices']} slice(s) of {summary['cases']} case(s); "
                           f"validation: {len(summary['validation'])} case(s).")

    def show_event(self, event: TrainingProgress) -> None:
        if event.event == "prepare":
            self.bar.setRange(0, max(1, event.steps))
            self.bar.setValue(event.step)
            self.bar.setFormat("reading %v / %m cases")
            return
        if event.stage:
            self.stage.setText(f"Stage: {event.stage} encoder")
        if event.event == "step":
            self.epoch.setText(f"Epoch {event.epoch + 1} / {event.epochs}, step {event.step} / {event.steps}")
            self.bar.setRange(0, max(1, event.epochs * event.steps))
            self.bar.setValue(event.epoch * event.steps + event.step)
            self.bar.setFormat("%p%")
            self.chart.add_loss(event.loss)
            if event.eta_s is not None:
                self.eta.setText(f"About {_eta(event.eta_s)} left")
        elif event.event == "epoch":
            self._add_row(event)
        elif event.event == "done":
            self.state.setText(event.message)

    def _add_row(self, event: TrainingProgress) -> None:
        metrics = event.metrics or {}
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = (str(event.epoch + 1), event.stage, f"{event.loss:.4f}", _metric(metrics.get("miou")),
                  _metric(metrics.get("dice")))
        for column, text in enumerate(values):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.scrollToBottom()
        if "dice" in metrics:
            self.chart.add_dice(metrics["dice"])

    def stopped(self, message: str, can_resume: bool) -> None:
        self.state.setText(message)
        self.eta.setText("")
        self.cancel_button.setEnabled(False)
        self.resume_button.setEnabled(can_resume)

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.state.setText("Stopping after the current step…")


def _metric(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def _eta(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
