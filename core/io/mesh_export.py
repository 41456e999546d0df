"""Write the mandible mesh (binary STL, PLY, OBJ) and the label volume (NIfTI), atomically.

Mesh files carry geometry only: the STL header is a fixed text, PLY/OBJ are written from a
fresh mesh without metadata, so no patient name or ID can travel in them (decision 053).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import trimesh

from core.annotation.label_volume import require_geometry, require_labels
from core.errors import ExportError, InputError
from core.io.atomic import atomic_path
from core.volume import Volume

log = logging.getLogger(__name__)

MESH_FORMATS = {".stl": "stl", ".ply": "ply", ".obj": "obj"}
# 80 bytes; must not start with "solid" (readers would take the file for ASCII STL).
STL_HEADER = b"Mandible Studio binary STL; millimetres; DICOM patient frame (LPS)".ljust(80, b" ")


def mesh_format(path: str | Path) -> str:
    """'stl', 'ply' or 'obj' from the file name; ExportError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in MESH_FORMATS:
        raise ExportError(f"cannot write a mesh as '{Path(path).name}': use a name ending in .stl, .ply or .obj")
    return MESH_FORMATS[suffix]


def mesh_bytes(mesh: trimesh.Trimesh, file_type: str) -> bytes:
    """The file contents: vertices and faces only, no metadata."""
    bare = trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), process=False)
    data = bare.export(file_type=file_type)
    if file_type == "stl":
        return STL_HEADER + data[80:]
    return data if isinstance(data, bytes) else data.encode("utf-8")


def export_mesh(path: str | Path, mesh: trimesh.Trimesh) -> Path:
    """Write `mesh` to `path` (format from the suffix) atomically; return the path."""
    path = Path(path)
    data = mesh_bytes(mesh, mesh_format(path))
    with writable_path(path) as tmp:
        tmp.write_bytes(data)
    log.info("wrote %s (%d faces)", path, len(mesh.faces))
    return path


def export_label_nifti(path: str | Path, labels: np.ndarray, volume: Volume) -> Path:
    """The label volume as NIfTI with the CT's affine (core.io.nifti.save_nifti_labels)."""
    from core.io.nifti import save_nifti_labels

    path = Path(path)
    if not path.name.lower().endswith((".nii", ".nii.gz")):
        raise ExportError(f"cannot write NIfTI as '{path.name}': use a name ending in .nii.gz or .nii")
    require_geometry(volume)
    labels = require_labels(labels, volume)
    _check_parent(path)
    try:
        save_nifti_labels(path, labels, volume)
    except InputError as exc:
        raise ExportError(str(exc)) from exc
    except OSError as exc:
        raise _write_error(path, exc) from exc
    log.info("wrote %s", path)
    return path


@contextmanager
def writable_path(path: Path) -> Iterator[Path]:
    """core.io.atomic.atomic_path, with OSError turned into an ExportError that says what to do."""
    _check_parent(path)
    try:
        with atomic_path(path) as tmp:
            yield tmp
    except OSError as exc:
        raise _write_error(path, exc) from exc


def _check_parent(path: Path) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ExportError(f"cannot write {path}: {parent} is a file, not a folder; choose another folder")
            return


def _write_error(path: Path, exc: OSError) -> ExportError:
    reason = exc.strerror or str(exc)
    return ExportError(f"cannot write {path}: {reason}; choose a folder you can write to")
