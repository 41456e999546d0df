"""One entry point for every input the user can open: a DICOM folder or file, a NIfTI file, a folder of images.

`describe_input` says what a path holds without decoding it; `load_volume` opens it as a canonical Volume.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from core.errors import InputError
from core.io.dicom import Progress, load_dicom_series, read_slice_header
from core.io.image_stack import IMAGE_SUFFIXES, load_image_stack
from core.io.nifti import load_nifti_volume
from core.volume import Volume


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith((".nii", ".nii.gz"))


def _has_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as fp:
            return fp.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def _describe_file(path: Path) -> str:
    if _is_nifti(path):
        return "nifti"
    if path.suffix.lower() == ".json":
        return "labelme"
    if _has_preamble(path):
        return "dicom"
    raise InputError(f"{path.name} is neither DICOM, NIfTI (.nii/.nii.gz) nor Labelme JSON; "
                     "open a DICOM folder, a NIfTI file or a folder of images.")


def _describe_folder(path: Path) -> str:
    names = [n for n in os.listdir(path) if not n.startswith(".")]
    if not names:
        raise InputError(f"The folder {path} is empty; choose the folder that holds the CT slices.")
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(_has_preamble(Path(folder, f)) for f in files if not f.startswith(".")):
            return "dicom"
    suffixes = {Path(n).suffix.lower() for n in names}
    if ".json" in suffixes:
        return "labelme"
    if suffixes & IMAGE_SUFFIXES:
        return "images"
    raise InputError(f"No DICOM, NIfTI or image files found in {path}; choose the folder that holds the CT slices.")


def describe_input(path: str | os.PathLike) -> str:
    """The kind of input at `path`: "dicom", "nifti", "images" or "labelme"; InputError if none."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; check the path.")
    return _describe_folder(path) if path.is_dir() else _describe_file(path)


def load_volume(path: str | os.PathLike, series_uid: str | None = None, progress: Progress = None,
                cancel: threading.Event | None = None) -> Volume:
    """Open `path` as a canonical Volume whatever its kind (a Labelme folder gives its slice images)."""
    path = Path(path)
    kind = describe_input(path)
    if kind == "dicom":
        if path.is_file():
            series_uid = series_uid or _series_of(path)
            path = path.parent
        return load_dicom_series(path, series_uid, progress=progress, cancel=cancel)
    if kind == "nifti":
        return load_nifti_volume(path)
    if path.is_file():
        raise InputError(f"{path.name} is a Labelme file; open the folder that holds the slices instead.")
    return load_image_stack(path)


def _series_of(path: Path) -> str:
    header = read_slice_header(path)
    if isinstance(header, str):
        raise InputError(f"{path.name} cannot be opened: {header}.")
    return header.series_uid
