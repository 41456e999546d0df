"""The workspace's cases as the case list shows them, and taking one off the list (after asking)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

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


def case_rows(workspace: Workspace) -> list[CaseRow]:
    rows = []
    for record in listed_records(workspace):
        done = sum(1 for s in record.statuses.values() if s.is_training_data)
        rows.append(CaseRow(record.case_id, record.display_name, record.source or "",
                            f"{record.patient.summary()}\n{record.num_slices} slices, {done} done"))
    return rows


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
