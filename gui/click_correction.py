"""3-D click correction in the app (C): a click adds the bone under it in every slice it runs through, a
Shift+click removes the wrong piece under it in 3-D, in the axial, coronal and sagittal views.

Each click solves the mask again in a box around it (core/inference/clicks.py, the graph cut of decision 220),
from the masks on screen, and writes the slices whose mask changed through the session's one door for changes of
many slices (`CaseSession.apply_many`, EditKind.CLICK): ONE entry of the case-wide history per click, and core's
one rule (core/workspace/edit_rules.py) decides which slices it may write: edited and reviewed slices keep their
content unless the user allows clicks to change them (Edit menu); the slices it writes become EDITED (decision
221). The clicks of the case stay hard
seeds of the next ones while the mask still agrees with them (an undone click stops counting).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from core.inference.click_graph_cut import GraphCut
from core.inference.clicks import Click, solve_click
from core.workspace.edit_rules import Allow, EditKind
from core.workspace.history import slice_range


class CaseMasks:
    """The open case's masks as a volume that gives crops (`masks[box]`), read slice by slice."""

    def __init__(self, session) -> None:
        self.session = session

    def __getitem__(self, box) -> np.ndarray:
        slices, rows, cols = box
        return np.stack([self.session.annotation(k).mask[rows, cols] for k in range(slices.start, slices.stop)])


class ClickCorrection(QObject):
    """The window's click correction; `set_session` follows the open case. Its actions (the tool, C, and whether
    clicks may change edited and reviewed slices) are in gui/actions.py; `allow_human` is the second one."""

    message = Signal(str)  # for the status bar

    def __init__(self, allow_human: QAction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = None
        self.solver = GraphCut()
        self.clicks: list[Click] = []
        self.allow_human = allow_human

    @property
    def allow(self) -> Allow:
        """What the user allowed: edited and reviewed slices only with Edit → Clicks May Change …"""
        return Allow(human=self.allow_human.isChecked())

    def set_session(self, session) -> None:
        self.session, self.clicks = session, []

    def click(self, voxel: tuple[int, int, int], include: bool) -> list[int]:
        """Solve one click at volume voxel (slice, row, col); the slices it wrote (one undo step)."""
        session = self.session
        if session is None:
            return []
        volume = session.volume
        clicks = [c for c in self.clicks if self._agrees(c)] + [Click(*(int(v) for v in voxel), include=include)]
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            box, solved = solve_click(self.solver, volume.hu, CaseMasks(session), None, volume.spacing, clicks,
                                      volume.units)
        finally:
            QApplication.restoreOverrideCursor()
        masks = self._changed_slices(box, solved)
        verb = "added" if include else "removed"
        text = "Click: add bone" if include else "Click: remove"
        written = session.apply_many(masks, EditKind.CLICK, text, self.allow) if masks else []
        self.clicks = clicks
        self.message.emit(self._report(verb, masks, written))
        return written

    def _agrees(self, click: Click) -> bool:
        """The mask still says what the click said (after an undo it may not: the click no longer counts)."""
        return bool(self.session.annotation(click.slice).mask[click.row, click.col]) == click.include

    def _changed_slices(self, box, solved: np.ndarray) -> dict[int, np.ndarray]:
        """{slice index: its whole new mask} for the slices of the box whose mask the solve changed."""
        rows, cols = box[1:]
        masks = {}
        for offset, index in enumerate(range(box[0].start, box[0].stop)):
            current = self.session.annotation(index).mask
            if np.array_equal(current[rows, cols] > 0, solved[offset]):
                continue
            new = current.copy()
            new[rows, cols] = solved[offset]
            masks[index] = new
        return masks

    def _report(self, verb: str, masks: dict, written: list[int]) -> str:
        if not masks:
            return "The click changed nothing: the mask already says so there."
        kept = sorted(set(masks) - set(written))
        text = (f"Click: {verb} on slices {slice_range(written)} (Ctrl+Z takes it back)" if written
                else "Click: nothing written")
        if kept:
            text += (f"; {len(kept)} edited or reviewed slice(s) kept ({slice_range(kept)}): Edit → "
                     "Clicks May Change Edited and Reviewed Slices")
        return text
