"""Segmenting in the app: the Segment actions, the job bar (progress and Cancel) in the status bar, and the
refinement setting. It feeds the open case through PredictController and nothing else.

Everything it needs comes in by construction: the window's action registry and status bar, the model
versions, and a callback that explains what to do when no model is active.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QProgressBar, QStatusBar, QToolButton, QWidget

from core.annotation.slice_status import SliceStatus
from core.workspace.model_versions import ModelVersions
from gui import dialogs
from gui.actions import ActionSpec, Actions
from gui.ai.predict_controller import PredictController
from gui.case_session import CaseSession

SPECS = (
    ActionSpec("segment_slice", "Segment This &Slice", ("Ctrl+G",), None, None,
               "Segment the mandible on this slice with the active model"),
    ActionSpec("segment_case", "Segment Whole &Case", ("Ctrl+Shift+G",), None, None,
               "Segment every slice; edited and reviewed slices are kept"),
    ActionSpec("segment_case_all", "Segment Whole Case, Replacing Edited Slices…", (), None, None,
               "Segment every slice, also replacing slices you edited or reviewed"),
    ActionSpec("cancel_ai", "Cancel Segmentation", (), None, None, "Stop the running segmentation"),
    ActionSpec("refine", "Refine Edges at the CT's Resolution", (), None, None,
               "Follow the bone edge at the CT's own pixel size after the network (off: the network's mask as is)",
               checkable=True),
)


def ask_replace_edited(parent: QWidget, count: int) -> bool:
    answer = QMessageBox.question(parent, "Replace your edits?",
                                  f"{count} slice(s) were edited or reviewed by a person. Replace them with "
                                  "the model's prediction? (Each slice can be undone with Ctrl+Z.)",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class Segmenting(QObject):
    def __init__(self, parent: QWidget, actions: Actions, status_bar: QStatusBar, versions: ModelVersions,
                 explain_no_model: Callable[[], None]) -> None:
        super().__init__(parent)
        self._parent, self._status_bar, self._versions = parent, status_bar, versions
        self._explain_no_model = explain_no_model
        self.session: CaseSession | None = None
        self.predict = PredictController(self)
        slots = {"segment_slice": self.segment_slice, "segment_case": self.segment_case,
                 "segment_case_all": lambda: self.segment_case(overwrite=True), "cancel_ai": self.predict.cancel,
                 "refine": self.set_refine}
        self.actions = actions.add_to_menu("&AI", SPECS, slots)
        actions.menu("&AI").addSeparator()
        self.actions["cancel_ai"].setEnabled(False)
        self.actions["refine"].setChecked(self.predict.policy.refine)
        self._build_job_bar()
        self.predict.started.connect(self._on_started)
        self.predict.progress.connect(self._on_progress)
        self.predict.failed.connect(lambda message: dialogs.show_error(parent, "Segmentation failed", message))
        self.predict.finished.connect(self._on_finished)

    def _build_job_bar(self) -> None:
        self.job_bar = QWidget(objectName="aiJobBar")
        layout = QHBoxLayout(self.job_bar)
        layout.setContentsMargins(0, 0, 0, 0)
        self.job_progress = QProgressBar(objectName="aiJobProgress", maximumWidth=200, textVisible=True)
        self.job_cancel = QToolButton(objectName="aiJobCancel", text="Cancel")
        self.job_cancel.clicked.connect(self.predict.cancel)
        layout.addWidget(self.job_progress)
        layout.addWidget(self.job_cancel)
        self._status_bar.addPermanentWidget(self.job_bar)
        self.job_bar.hide()

    def set_session(self, session: CaseSession | None) -> None:
        """The case the Segment actions act on (None: it is closing). A segmentation of another case stops."""
        if session is not self.session:
            self.predict.detach()
        self.session = session

    def set_refine(self, refine: bool) -> None:
        """The app's refinement setting (the CLI's --no-refine): used by the next segmentation."""
        self.predict.policy = dataclasses.replace(self.predict.policy, refine=bool(refine))

    # --- segmenting -----------------------------------------------------------------------------------
    def active_model(self) -> Path | None:
        active = self._versions.active()
        if active is None:
            self._explain_no_model()
            return None
        return active.model_path

    def segment_slice(self) -> bool:
        session = self.session
        if session is None:
            return False
        index = session.current
        if session.status(index).is_training_data and not ask_replace_edited(self._parent, 1):
            return False
        model = self.active_model()
        return model is not None and self.predict.start(session, model, [index], overwrite=True)

    def segment_case(self, overwrite: bool = False) -> bool:
        session = self.session
        if session is None:
            return False
        indexes = list(range(session.num_slices))
        protected = self.predict.protected(session, indexes)
        if overwrite and protected and not ask_replace_edited(self._parent, len(protected)):
            return False
        model = self.active_model()
        return model is not None and self.predict.start(session, model, indexes, overwrite=overwrite)

    def resegment_predictions(self) -> None:
        """After a change of model, the predictions on screen come from the new one (human slices untouched)."""
        session = self.session
        if session is None or self.predict.is_running:
            return
        predicted = [i for i in range(session.num_slices) if session.status(i) is SliceStatus.PREDICTED]
        active = self._versions.active()
        if predicted and active is not None:
            self.predict.start(session, active.model_path, predicted)

    # --- the job bar ----------------------------------------------------------------------------------
    def _on_started(self, title: str) -> None:
        self.job_progress.setRange(0, 0)
        self.job_progress.setFormat(title)
        self.job_bar.show()
        self.actions["cancel_ai"].setEnabled(True)
        self._status_bar.showMessage(title + "…")

    def _on_progress(self, step: int, total: int, message: str) -> None:
        self.job_progress.setRange(0, max(1, total))
        self.job_progress.setValue(step)
        self.job_progress.setFormat("%v / %m slices")

    def _on_finished(self, summary: str) -> None:
        self.job_bar.hide()
        self.actions["cancel_ai"].setEnabled(False)
        self._status_bar.showMessage(summary, 6000)
