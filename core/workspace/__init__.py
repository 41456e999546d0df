"""Workspaces: folders of cases with per-slice annotations, statuses, autosave and crash recovery."""
from core.workspace.case_record import CaseRecord
from core.workspace.case_store import CaseStore, SaveError, SaveResult
from core.workspace.workspace import TrainingItem, Workspace

__all__ = ["CaseRecord", "CaseStore", "SaveError", "SaveResult", "TrainingItem", "Workspace"]
