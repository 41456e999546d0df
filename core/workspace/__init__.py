"""Workspaces: folders of cases with per-slice annotations, statuses, autosave and crash recovery."""
from core.workspace.case_record import CaseRecord
from core.workspace.case_store import CaseStore, SaveError, SaveResult
from core.workspace.open_case import OpenCase, SliceChange
from core.workspace.workspace import TrainingItem, Workspace

__all__ = ["CaseRecord", "CaseStore", "OpenCase", "SaveError", "SaveResult", "SliceChange", "TrainingItem",
           "Workspace"]
