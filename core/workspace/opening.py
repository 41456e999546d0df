"""Opening a path the user chose as a case of the workspace: read the CT, find or create its case (reopening
restores the saved slices and drafts), and for a Labelme folder take its JSON as the case's annotations.

The input is described once (core.io.loader.describe_input), and that kind is what loads it and what the case
records. The GUI runs `open_case_at` in a worker (gui.workers); a DICOM folder with several series gives a
SeriesChoice instead, and the GUI asks which one and opens again with that series UID.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core.io.dicom import MultipleSeriesError, SeriesInfo, slice_of_file
from core.io.labels import load_labels
from core.io.loader import describe_input, load_volume
from core.volume import Volume
from core.workspace.open_case import OpenCase
from core.workspace.workspace import Workspace

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SeriesChoice:
    """The folder holds several DICOM series: open it again with one of these."""

    path: Path
    series: list[SeriesInfo]


def open_case_at(workspace: Workspace, path: str | Path, series_uid: str | None = None,
                 progress: Progress | None = None, cancel: threading.Event | None = None) -> OpenCase | SeriesChoice:
    """The case of the CT at `path`, or the series to choose from; raises core errors (InputError and kin) that
    say what to do about a bad input, or Cancelled."""
    path = Path(path)
    kind = describe_input(path)
    if progress is not None:
        progress(0, 1, f"Reading {path.name}…")
    try:
        # the stored values: the case calibrates them (its user's correction, else the scan's own) in add_case
        volume = load_volume(path, series_uid=series_uid, progress=progress, cancel=cancel, kind=kind,
                             calibration=None)
    except MultipleSeriesError as exc:
        return SeriesChoice(path, exc.series)
    labels = load_labels(path, volume) if kind == "labelme" else None
    case = OpenCase(volume, workspace.add_case(volume, path, kind))
    if labels is not None and not case.annotations:
        case.import_labels(labels)
    if kind == "dicom" and path.is_file():
        case.opened_at = slice_of_file(volume, path)  # IM00070.dcm opens on its own slice
    case.warnings[:0] = volume.warnings
    return case


def read_label_volume(path: str | Path, volume: Volume, progress: Progress | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray:
    """Import Labels: a NIfTI label volume or a Labelme folder, checked against the CT."""
    path = Path(path)
    if progress is not None:
        progress(0, 1, f"Reading labels {path.name}…")
    return load_labels(path, volume)
