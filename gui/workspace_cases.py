"""The workspace's cases as the case list and File ▸ Open Recent show them, and what the list's menu asks:
renaming a case, taking one off the list (after asking)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from core.app_paths import DISPLAY_NAME
from core.errors import MandibleStudioError
from core.workspace import Workspace
from core.workspace.case_record import CaseRecord
from gui import dialogs
from gui.panels.case_list import CaseRow


def listed_records(workspace: Workspace) -> list[CaseRecord]:
    """Recently opened cases first, then every other case by name."""
    records = workspace.recent_cases()
    seen = {r.case_id for r in records}
    return records + [r for r in workspace.cases() if r.case_id not in seen]


def case_rows(workspace: Workspace, live: dict[str, int] | None = None) -> list[CaseRow]:
    """The rows of the case list; `live` {case id: slices done} overrides what case.json says (the open case)."""
    rows = []
    for record in listed_records(workspace):
        done = sum(1 for s in record.statuses.values() if s.is_training_data)
        done = (live or {}).get(record.case_id, done)
        rows.append(CaseRow(record.case_id, record.display_name, record.source or "",
                            f"{record.patient.summary()}\n{record.num_slices} slices, {done} done"))
    return rows


def ask_and_rename(parent: QWidget, workspace: Workspace, case_id: str) -> str | None:
    """Ask for a new name of a case and keep it; the new name, or None (cancelled, or refused with a message)."""
    record = workspace.case(case_id).record
    name = dialogs.ask_text(parent, "Rename case", f"New name for {record.display_name}:", record.display_name)
    if name is None:
        return None
    try:
        return workspace.rename_case(case_id, name).display_name
    except MandibleStudioError as exc:
        dialogs.show_error(parent, "Cannot rename the case", str(exc))
        return None


def ask_and_remove(parent: QWidget, workspace: Workspace, case_id: str) -> Path | None:
    """Ask, then move the case's folder to the workspace's removed/ folder (decision 171); where it went, or None."""
    record = workspace.case(case_id).record
    text = (f"Remove {record.display_name} from the list?\n\nIts annotations are not deleted: the case folder "
            f"moves to {workspace.removed_dir}. Opening the CT again starts it afresh.")
    if not dialogs.confirm(parent, "Remove from list", text, "Remove from List"):
        return None
    try:
        return workspace.remove_case(case_id)
    except MandibleStudioError as exc:
        dialogs.show_error(parent, "Cannot remove the case", str(exc))
        return None


def window_title(session) -> str:
    return f"{session.name} — {session.volume.patient.summary()} — {DISPLAY_NAME}"


class CaseListing(QObject):
    """The main window's case list and Open Recent menu, kept in step with the workspace and the open case."""

    FOLLOW_MS = 500  # the open case's "N done" follows its edits this long after a change

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self._timer = QTimer(self, singleShot=True, interval=self.FOLLOW_MS)
        self._timer.timeout.connect(self.refresh)
        window.case_list.remove_requested.connect(self.remove)
        window.case_list.rename_requested.connect(self.rename)

    def follow(self, *_changed) -> None:
        """The open case changed: refresh the list a moment later."""
        self._timer.start()

    def refresh(self) -> None:
        window, session = self._window, self._window.session
        live = {session.case_id: len(session.training_slices())} if session is not None else None
        window.case_list.set_cases(case_rows(window.workspace, live), session.source if session else None)
        menu = window.actions.recent_menu
        if menu is not None:
            menu.clear()
            for record in window.workspace.recent_cases()[:10]:
                if record.source:
                    menu.addAction(record.display_name, partial(window.open_path, record.source))
            menu.setEnabled(not menu.isEmpty())

    def rename(self, case_id: str) -> bool:
        """The user's own name for a case (the open one too); False when cancelled."""
        window = self._window
        if ask_and_rename(window, window.workspace, case_id) is None:
            return False
        if window.session is not None and window.session.case_id == case_id:
            window.setWindowTitle(window_title(window.session))
        self.refresh()
        return True

    def remove(self, case_id: str) -> bool:
        """Take a case (not the open one) off the list, after asking; its files are kept (decision 171)."""
        window = self._window
        if window.session is not None and window.session.case_id == case_id:
            return False
        moved = ask_and_remove(window, window.workspace, case_id)
        if moved is not None:
            self.refresh()
            window.statusBar().showMessage(f"Removed from the list; the case's files are in {moved}", 8000)
        return moved is not None
