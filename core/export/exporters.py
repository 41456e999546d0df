"""Every export format, declared once as data (the shape of core.model.encoders.ENCODERS; docs/decisions/193).

One entry gives the command line's option (`main.py export --stl ...`), the export dialog's button, the default
file name after the case, the save dialog's filter, whether it needs a CT opened from DICOM, and the writer.
`core/commands/export.py` adds one option per entry and `gui/export_dialog.py` one button per entry that writes
a file; the Labelme dataset writes a folder, the case's own (core/export/case_folder.py).

Adding a format = a writer in core/io (atomic, no patient identity [053]) and one entry here.
"""
from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core.annotation.label_volume import DEFAULT_EXPORT_STATUSES
from core.annotation.slice_status import SliceStatus
from core.export.case_folder import CaseFolder, folder_stem
from core.export.labelme_dataset import export_labelme_dataset
from core.volume import Volume

DEFAULT_STEM = "mandible"  # a name without the patient's, for a case without one
Progress = Callable[[int, int, str], None]


@dataclass
class ExportSource:
    """What an export is made of: the CT and its label volume, the mesh when one was built, the workspace case
    (for the Labelme dataset), and which slices count."""

    volume: Volume | None = None
    labels: np.ndarray | None = None
    mesh: object | None = None  # trimesh.Trimesh
    store: object | None = None  # core.workspace.case_store.CaseStore
    include: Collection[SliceStatus] = DEFAULT_EXPORT_STATUSES
    algorithm: str = "MANUAL"  # DICOM SEG: MANUAL, or AUTOMATIC for a model's masks


@dataclass(frozen=True)
class Exporter:
    key: str
    flag: str  # the option of `main.py export`
    help: str  # its help text
    button: str  # the export dialog's button (or the menu's item)
    suffix: str  # the default name is the case's name + suffix; "" for a folder named after the case
    write: Callable[..., object]  # write(target, source, progress, cancel) -> what was written
    file_filter: str = ""  # for the save dialog
    needs_dicom: bool = False  # refers to the CT's DICOM series
    needs_mesh: bool = False
    writes_folder: bool = False  # the case's export folder (a CaseFolder), not a file

    def default_name(self, case_name: str | None) -> str:
        """The suggested file (or folder) name: after the case (never the patient), else after the mandible."""
        return (folder_stem(case_name) or DEFAULT_STEM) + self.suffix


def _mesh(path: Path, source: ExportSource, progress=None, cancel=None) -> Path:
    from core.io.mesh_export import export_mesh

    return export_mesh(path, source.mesh)


def _nifti(path: Path, source: ExportSource, progress=None, cancel=None) -> Path:
    from core.io.mesh_export import export_label_nifti

    return export_label_nifti(path, source.labels, source.volume)


def _dicom_seg(path: Path, source: ExportSource, progress=None, cancel=None) -> Path:
    from core.io.dicom_seg import export_dicom_seg

    return export_dicom_seg(path, source.labels, source.volume, source.algorithm)


def _labelme_dataset(folder: CaseFolder, source: ExportSource, progress: Progress | None = None,
                     cancel: threading.Event | None = None):
    """The caller has chosen the case's folder and asked before replacing an earlier export in it."""
    return export_labelme_dataset(source.store, folder, source.include, replace=True, progress=progress,
                                  cancel=cancel)


MESH_FILTER = "Binary STL (*.stl);;PLY (*.ply);;Wavefront OBJ (*.obj)"

EXPORTERS: dict[str, Exporter] = {e.key: e for e in (
    Exporter("mesh", "--stl", "mesh output (.stl binary; .ply and .obj work too)", "Save mesh (STL/PLY/OBJ)…",
             ".stl", _mesh, MESH_FILTER, needs_mesh=True),
    Exporter("nifti", "--nifti", "label volume output (.nii.gz) with the CT's affine", "Save NIfTI…",
             "_labels.nii.gz", _nifti, "NIfTI (*.nii.gz *.nii)"),
    Exporter("dicom_seg", "--dicom-seg", "DICOM SEG output referencing the CT series (DICOM input only)",
             "Save DICOM SEG…", "_seg.dcm", _dicom_seg, "DICOM (*.dcm)", needs_dicom=True),
    Exporter("labelme_dataset", "--labelme-dataset",
             "a folder: the case's saved slices go to FOLDER/<case>/ as NNNN.png + NNNN.json, copied exactly "
             "(--labels must be the workspace case folder)", "Export Labelme Dataset…", "", _labelme_dataset,
             writes_folder=True),
)}


def file_exporters() -> list[Exporter]:
    """The formats that write one file (the export dialog's buttons)."""
    return [e for e in EXPORTERS.values() if not e.writes_folder]
