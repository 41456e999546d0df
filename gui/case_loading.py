"""What opening a case does off the GUI thread: load the CT, find or create its workspace case, restore
saved annotations and drafts, and for a Labelme folder import its JSON as annotations.

The result is an OpenCase (core.workspace.open_case), or a SeriesChoice when a DICOM folder holds
several series (the GUI then asks which one and opens again with that series UID).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.io.dicom import MultipleSeriesError, SeriesInfo
from core.io.labels import load_labels
from core.io.loader import describe_input, load_volume
from core.volume import Volume
from core.workspace import OpenCase, Workspace


@dataclass
class SeriesChoice:
    path: Path
    series: list[SeriesInfo]


def open_workspace_case(workspace: Workspace, path: Path, series_uid: str | None, progress,
                        cancel: threading.Event) -> OpenCase | SeriesChoice:
    """Job body for gui.workers: the opened case, or the series to choose from; raises core errors for bad input."""
    kind = describe_input(path)
    progress(0, 1, f"Reading {path.name}…")
    try:
        # the stored values: the case calibrates them (its user's correction, else the scan's own) in add_case
        volume = load_volume(path, series_uid=series_uid, progress=progress, cancel=cancel, calibration=None)
    except MultipleSeriesError as exc:
        return SeriesChoice(path, exc.series)
    labels = load_labels(path, volume) if kind == "labelme" else None
    case = OpenCase(volume, workspace.add_case(volume, path, kind))
    if labels is not None and not case.annotations:
        case.import_labels(labels)
    case.warnings[:0] = volume.warnings
    return case


def load_label_volume(path: Path, volume: Volume, progress, cancel: threading.Event) -> np.ndarray:
    """Job body for Import Labels: a NIfTI label volume or a Labelme folder, checked against the CT."""
    progress(0, 1, f"Reading labels {path.name}…")
    return load_labels(path, volume)
