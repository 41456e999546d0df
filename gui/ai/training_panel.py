"""The live training panel: stage, round (epoch), the training error curve, the check on held-out cases per round,
time left, Cancel / Resume. Plain words on screen; the technical terms are in tooltips."""
from __future__ import annotations

from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.training.events import Comparing, DataReady, EpochDone, Gathering, Preparing, StepDone, TrainingDone
from core.training.schedule import FROZEN
from gui.ai.loss_chart import LossChart
from gui.ai.retrain_texts import duration_text

# (header, tooltip)
COLUMNS = (("Round", "Epoch"), ("Stage", "Warm-up: the encoder is frozen; full: every layer learns"),
           ("Training error", "Mean training loss of the epoch (focal loss)"),
           ("Overlap", "Mean IoU (MIoU) on the held-out cases: mandible and background overlap"),
           ("Match", "Dice coefficient on the held-out cases: 1 is a perfect match"))
STAGE_WORDS = {FROZEN: "warm-up", "unfrozen": "full"}


class TrainingPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        layout = QVBoxLayout(self)
        self.state = QLabel("No training running.", objectName="trainingState", wordWrap=True)
        self.stage = QLabel(objectName="trainingStage", wordWrap=True)
        self.epoch = QLabel(objectName="trainingEpoch")
        self.eta = QLabel(objectName="trainingEta")
        self.bar = QProgressBar(objectName="trainingProgress", textVisible=True)
        self.chart = LossChart()
        self.table = QTableWidget(0, len(COLUMNS), objectName="trainingEpochs")
        self.table.setHorizontalHeaderLabels([header for header, _ in COLUMNS])
        for column, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.cancel_button = QPushButton("Cancel", objectName="trainingCancel", enabled=False)
        self.resume_button = QPushButton("Resume", objectName="trainingResume", enabled=False)
        self.cancel_button.setToolTip("Stop after the current step; the last finished round is kept for Resume")
        self.resume_button.setToolTip("Continue the interrupted run from its last finished round")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        for widget in (self.state, self.stage, self.epoch, self.eta, self.bar):
            layout.addWidget(widget)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def start(self, resumed: bool) -> None:
        """A run starts: nothing of the previous run's progress stays on screen (the rounds table and the curve
        stay when the same run is resumed)."""
        if not resumed:
            self.chart.clear()
            self.table.setRowCount(0)
        for label in (self.stage, self.epoch, self.eta):
            label.setText("")
        self.bar.setRange(0, 0)  # busy until the first numbers arrive
        self.bar.setFormat("")
        self.state.setText("Resuming the interrupted run…" if resumed else "Gathering the training slices…")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.resume_button.setEnabled(False)

    def show_event(self, event) -> None:
        """One event of the run (core.training.events) on screen."""
        shown = self._SHOWN.get(type(event))
        if shown is not None:
            shown(self, event)

    def _show_gathering(self, event: Gathering) -> None:
        self._show_count(event.step, event.total, "%v / %m cases", event.message)

    def _show_data(self, event: DataReady) -> None:
        summary = event.summary
        held_out = len(summary["validation"])
        check = (f"{held_out} case(s) kept aside for checking" if held_out else "nothing kept aside for checking")
        self.state.setText(f"Training on {summary['slices']} slice(s) of {summary['cases']} case(s); {check}.")

    def _show_preparing(self, event: Preparing) -> None:
        self._show_count(event.step, max(1, event.steps), "reading %v / %m cases")

    def _show_step(self, event: StepDone) -> None:
        self._show_stage(event.stage)
        self.epoch.setText(f"Round {event.epoch + 1} / {event.epochs}, step {event.step} / {event.steps}")
        self.bar.setRange(0, max(1, event.epochs * event.steps))
        self.bar.setValue(event.epoch * event.steps + event.step)
        self.bar.setFormat("%p%")
        self.chart.add_loss(event.loss)
        if event.eta_s is not None:
            self.eta.setText(f"Time left: {duration_text(event.eta_s)}")

    def _show_epoch(self, event: EpochDone) -> None:
        self._show_stage(event.stage)
        self._add_row(event)

    def _show_done(self, event: TrainingDone) -> None:
        self.state.setText(event.message)

    def _show_comparing(self, event: Comparing) -> None:
        self._show_count(0, 0, "", event.message)

    def _show_count(self, step: int, total: int, form: str, message: str | None = None) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(step)
        self.bar.setFormat(form if total else "")
        if message is not None:
            self.state.setText(message[:1].upper() + message[1:])

    def _show_stage(self, stage: str) -> None:
        self.stage.setText(f"Stage: {STAGE_WORDS.get(stage, stage)}")
        self.stage.setToolTip("frozen encoder" if stage == FROZEN else "all layers learn (unfrozen)")

    _SHOWN = {Gathering: _show_gathering, DataReady: _show_data, Preparing: _show_preparing, StepDone: _show_step,
              EpochDone: _show_epoch, TrainingDone: _show_done, Comparing: _show_comparing}

    def _add_row(self, event: EpochDone) -> None:
        metrics = event.metrics or {}
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = (str(event.epoch + 1), STAGE_WORDS.get(event.stage, event.stage), f"{event.loss:.4f}",
                  _metric(metrics.get("miou")), _metric(metrics.get("dice")))
        for column, text in enumerate(values):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.scrollToBottom()
        if "dice" in metrics:
            self.chart.add_dice(metrics["dice"])

    def stopped(self, message: str, can_resume: bool) -> None:
        self.state.setText(message)
        self.eta.setText("")
        self.bar.setRange(0, 1)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.resume_button.setEnabled(can_resume)

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.state.setText("Stopping after the current step…")


def _metric(value) -> str:
    return "—" if value is None else f"{value:.4f}"
