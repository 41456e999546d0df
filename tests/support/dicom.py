"""Builders of DICOM test series from the bundled sample (bad inputs, a patient's identity in the headers),
shared by the core and GUI tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian

from tests.support.paths import SAMPLE_DIR

SAMPLE_FILES = sorted(SAMPLE_DIR.glob("IM*.dcm"))


def copy_sample_series(dest: Path, count: int = 12) -> list[Path]:
    """The first `count` slices of the bundled sample (RLE) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(f, dest)) for f in SAMPLE_FILES[:count]]


def rewrite_uncompressed(path: Path, edit=None, pixels: np.ndarray | None = None) -> None:
    """Rewrite `path` as uncompressed, optionally with new pixels and an edit of the dataset."""
    ds = pydicom.dcmread(path)
    array = ds.pixel_array if pixels is None else pixels
    ds.PixelData = np.ascontiguousarray(array, dtype=np.uint16).tobytes()
    ds.Rows, ds.Columns = array.shape
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if edit is not None:
        edit(ds)
    ds.save_as(path, enforce_file_format=True)


IDENTITY = {"PatientName": "Müller^Jürgen", "PatientID": "PID-8817342", "PatientBirthDate": "19580214",
            "StudyDate": "20240301", "SeriesDescription": "KIEFER CBCT PRIVAT"}


SHOWN = ("Müller", "Jürgen", "PID-8817342", "1958-02-14", "19580214", "2024-03-01", "20240301", "KIEFER CBCT PRIVAT")


def identified_series(folder, count=12, identity=IDENTITY):
    """Sample slices whose headers name a patient, in Latin-1 (SpecificCharacterSet ISO_IR 100)."""
    files = copy_sample_series(folder, count)
    for path in files:
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 100"
        for keyword, value in identity.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    return folder
