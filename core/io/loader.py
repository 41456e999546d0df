"""One entry point for every input the user can open: a DICOM folder or file, a NIfTI file, a folder of images.

`describe_input` says what a path holds without decoding it; `load_volume` opens it as a canonical Volume.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from core.errors import InputError
from core.io.dicom import Progress, load_dicom_file_series, load_dicom_series
from core.io.files import iter_regular_files, require_regular_file
from core.io.grey_values import AUTO, calibrate_volume
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
    require_regular_file(path, "a DICOM, NIfTI or Labelme file")
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
    if any(_has_preamble(file) for file in iter_regular_files(path, recursive=True)):
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
                cancel: threading.Event | None = None, kind: str | None = None, calibration=AUTO) -> Volume:
    """Open `path` as a canonical Volume whatever its kind (a Labelme folder gives its slice images), its grey
    values calibrated to HU (core.io.grey_values: `calibration` AUTO estimates it from the scan, a
    GreyCalibration applies a stored one, None keeps the values as stored). `kind` is what describe_input said
    of it, when the caller asked already (the input is then not scanned again).

    Every problem with the input is a MandibleStudioError (InputError and kin) that says what to do.
    """
    path = Path(path)
    try:
        return calibrate_volume(_load(path, kind or describe_input(path), series_uid, progress, cancel), calibration)
    except OSError as exc:
        raise InputError(f"cannot read {exc.filename or path}: {exc.strerror or exc}; check that it is there "
                         "and that you may read it.") from exc


def _load(path: Path, kind: str, series_uid: str | None, progress: Progress, cancel: threading.Event | None) -> Volume:
    if kind == "dicom":
        if path.is_file() and series_uid is None:
            return load_dicom_file_series(path, progress=progress, cancel=cancel)
        return load_dicom_series(path.parent if path.is_file() else path, series_uid, progress=progress,
                                 cancel=cancel)
    if kind == "nifti":
        return load_nifti_volume(path)
    if path.is_file():
        raise InputError(f"{path.name} is a Labelme file; open the folder that holds the slices instead.")
    return load_image_stack(path)

