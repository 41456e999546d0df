"""Segmenting in the app: the Segment actions, the job bar (progress and Cancel) in the status bar, and the
refinement setting. It feeds the open case through PredictController and nothing else.

Everything it needs comes in by construction: the window's actions (declared in gui/actions.py, which calls the
methods here) and status bar, the model versions, and a callback that explains what to do when no model is
active. The actions' enable rules read `session` and `predict.is_running`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QStatusBar, QToolButton, QWidget

from core.annotation.slice_status import SliceStatus
from core.workspace.edit_rules import Allow, EditKind
from core.workspace.model_versions import ModelVersions
from gui import dialogs
from gui.ai.predict_controller import PredictController
from gui.case_session import CaseSession
from gui.window_actions import Actions

def ask_replace_carried(parent: QWidget, count: int) -> str:
    """Segment Whole Case over interpolated or propagated slices: "replace", "keep" or "cancel"."""
    box = QMessageBox(QMessageBox.Icon.Question, "Replace interpolated and propagated slices?",
                      f"{count} slice(s) were interpolated or propagated from your slices. Replace them with the "
                      "model's prediction too, or keep them and segment only the other slices?", parent=parent)
    replace = box.addButton("Replace Them", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep Them", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    return {replace: "replace", keep: "keep"}.get(box.clickedButton(), "cancel")


def ask_replace_edited(parent: QWidget, count: int) -> bool:
    answer = QMessageBox.question(parent, "Replace your edits?",
                                  f"{count} slice(s) were edited or reviewed by a person. Replace them with "
                                  "the model's prediction? (Ctrl+Z takes the whole segmentation back.)",
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
        self.actions = actions
        self.set_refine(actions["refine"].isChecked())
        self._build_job_bar()
        self.predict.started.connect(self._on_started)
        self.predict.progress.connect(self._on_progress)
        self.predict.failed.connect(lambda message: dialogs.show_error(parent, "Segmentation failed", message))
        self.predict.finished.connect(self._on_finished)
        self.predict.interrupted.connect(self._on_interrupted)

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
        self.notice = QWidget(objectName="aiNotice")  # a stopped run: stays until resumed or dismissed
        row = QHBoxLayout(self.notice)
        row.setContentsMargins(0, 0, 0, 0)
        self.notice_text = QLabel(objectName="aiNoticeText")
        self.notice_resume = QToolButton(objectName="aiNoticeResume", text="Resume")
        self.notice_resume.clicked.connect(self.resume)
        dismiss = QToolButton(objectName="aiNoticeDismiss", text="×", toolTip="Dismiss")
        dismiss.clicked.connect(self.notice.hide)
        for widget in (self.notice_text, self.notice_resume, dismiss):
            row.addWidget(widget)
        self._status_bar.addPermanentWidget(self.notice)
        self.notice.hide()

    def set_session(self, session: CaseSession | None) -> None:
        """The case the Segment actions act on (None: it is closing). A segmentation of another case stops."""
        if session is not self.session:
            self.predict.detach()
        self.session = session
        unreached = session.unsegmented if session is not None else []
        if unreached:
            self._show_notice(f"Segment Whole Case stopped on this case when another case was opened: "
                              f"{len(unreached)} slice(s) are not segmented.", resumable=True)

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
        """Ctrl+G: this slice, interpolated or propagated too; asks first when the rule keeps it as human work."""
        session = self.session
        if session is None:
            return False
        index, allow = session.current, Allow(carried=True)
        if not session.targets(EditKind.PREDICTION, [index], allow):
            if not ask_replace_edited(self._parent, 1):
                return False
            allow = Allow(carried=True, human=True)
        model = self.active_model()
        return model is not None and self.predict.start(session, model, [index], allow, "Segment slice")

    def segment_case(self, overwrite: bool = False) -> bool:
        """Ctrl+Shift+G: every slice a prediction may write; asks before replacing interpolated or propagated
        slices, and (`overwrite`) edited and reviewed ones: the slices the rule keeps unless allowed."""
        session = self.session
        if session is None:
            return False
        kept = {name: len(session.targets(EditKind.PREDICTION, allow=allow)) for name, allow in
                (("none", Allow()), ("carried", Allow(carried=True)), ("human", Allow(carried=True, human=True)))}
        human, carried = kept["human"] - kept["carried"], kept["carried"] - kept["none"]
        if overwrite and human and not ask_replace_edited(self._parent, human):
            return False
        answer = ask_replace_carried(self._parent, carried) if carried else "keep"
        if answer == "cancel":
            return False
        model = self.active_model()
        allow = Allow(carried=answer == "replace", human=overwrite)
        return model is not None and self.predict.start(session, model, list(range(session.num_slices)), allow,
                                                        "Segment whole case")

    def resume(self) -> bool:
        """Segment the slices a Segment Whole Case stopped by a case switch did not reach."""
        session = self.session
        if session is None or not session.unsegmented or self.predict.is_running:
            return False
        model = self.active_model()
        return model is not None and self.predict.start(session, model, session.unsegmented,
                                                        text="Resume segmentation")

    def resegment_predictions(self) -> None:
        """After a change of model, the predictions on screen come from the new one (human slices untouched)."""
        session = self.session
        if session is None or self.predict.is_running:
            return
        predicted = [i for i in range(session.num_slices) if session.status(i) is SliceStatus.PREDICTED]
        active = self._versions.active()
        if predicted and active is not None:
            self.predict.start(session, active.model_path, predicted, text="Segment with the new model")

    # --- the job bar ----------------------------------------------------------------------------------
    def _show_notice(self, text: str, resumable: bool) -> None:
        self.notice_text.setText(text)
        self.notice_resume.setVisible(resumable)
        self.notice.show()

    def _on_interrupted(self, name: str, reached: int, asked: int) -> None:
        self._show_notice(f"Segmenting {name} stopped after {reached} of {asked} slices because another case was "
                          f"opened; open {name} again and choose Resume (AI menu).", resumable=False)

    def _on_started(self, title: str) -> None:
        self.notice.hide()
        self.job_progress.setRange(0, 0)
        self.job_progress.setFormat(title)
        self.job_bar.show()
        self._status_bar.showMessage(title + "…")

    def _on_progress(self, step: int, total: int, message: str) -> None:
        self.job_progress.setRange(0, max(1, total))
        self.job_progress.setValue(step)
        self.job_progress.setFormat("%v / %m slices")

    def _on_finished(self, summary: str) -> None:
        self.job_bar.hide()
        if summary:
            self._status_bar.showMessage(summary)  # stays until the next message
