"""The in-memory CT volume every loader returns, in the one canonical orientation.

Canonical orientation (every loader returns it, every exporter names slices by it):
  axis 0, slice: index 0 is the most superior slice (head end), growing toward the feet;
  axis 1, row:   anterior to posterior;
  axis 2, col:   patient's right to patient's left (radiological display).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.calibration import GreyCalibration

UNKNOWN_PATIENT = "Patient unknown"


@dataclass(frozen=True)
class PatientInfo:
    """Who and what the scan is, for the screen only (title, case list, series chooser): never exported.

    DICOM fills it from the headers; NIfTI and image files carry none (every field empty).
    Dates are shown as YYYY-MM-DD.
    """

    name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    study_date: str = ""
    series_description: str = ""

    @property
    def known(self) -> bool:
        return bool(self.name or self.patient_id or self.birth_date)

    def summary(self) -> str:
        """One line: "DOE, JOHN · ID 12345 · born 1958-02-14 · study 2024-03-01", or UNKNOWN_PATIENT."""
        parts = [self.name or ("" if not self.known else "(no name)")]
        parts += [f"ID {self.patient_id}" if self.patient_id else "",
                  f"born {self.birth_date}" if self.birth_date else ""]
        if not self.known:
            parts = [UNKNOWN_PATIENT]
        parts.append(f"study {self.study_date}" if self.study_date else "")
        return " · ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "PatientInfo":
        """From case.json; anything that is not a dict of strings gives what it can (else unknown)."""
        if not isinstance(data, dict):
            return cls()
        return cls(**{f.name: data[f.name] for f in fields(cls) if isinstance(data.get(f.name), str)})


@dataclass
class Volume:
    """A CT in Hounsfield units, shape [slice, row, col]: as stored when the scan is in HU, else calibrated to
    HU-equivalent values (`calibration` says how; core.calibration, docs/decisions/200)."""

    hu: np.ndarray
    # Millimetres between slices, rows and columns: (slice, row, col).
    spacing: tuple[float, float, float]
    name: str
    # Patient coordinates (DICOM LPS, mm) of the centre of voxel [0, 0, 0].
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # 3x3; column j is the LPS unit vector of array axis j (slice, row, col).
    # The default is the canonical axial orientation: slices go inferior (-S),
    # rows go posterior (+P), columns go to the patient's left (+L).
    direction: np.ndarray = field(
        default_factory=lambda: np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    )
    source: Path | None = None
    series_uid: str | None = None
    study_uid: str | None = None
    frame_of_reference_uid: str | None = None
    # One SOP Instance UID per slice (DICOM only), in canonical slice order.
    sop_uids: list[str] | None = None
    # Problems that did not stop the load (skipped files, gaps, uneven spacing).
    warnings: list[str] = field(default_factory=list)
    # "HU" for CT; "display" for 8/16-bit image stacks whose values are not Hounsfield units.
    units: str = "HU"
    # False when no file recorded the voxel size and 1 mm was assumed (image stacks, bare DICOM):
    # millimetre outputs (meshes, label volumes) refuse such a volume.
    spacing_known: bool = True
    # Patient identity for the screen; exports never write it (decision 103).
    patient: PatientInfo = field(default_factory=PatientInfo)
    # The file's own padding outside the field of view, (low, high) after rescale (DICOM PixelPaddingValue
    # and PixelPaddingRangeLimit); None when the file says nothing (the padding is then found from the values).
    declared_padding: tuple[float, float] | None = None
    # How the stored grey values became `hu` (core.io.grey_values.calibrate_volume); None: values as stored.
    calibration: "GreyCalibration | None" = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.hu.shape)  # type: ignore[return-value]

    @property
    def num_slices(self) -> int:
        return int(self.hu.shape[0])

    def affine_lps(self) -> np.ndarray:
        """4x4 matrix from (slice, row, col) index to patient LPS millimetres."""
        affine = np.eye(4)
        affine[:3, :3] = np.asarray(self.direction, float) * np.asarray(self.spacing, float)[None, :]
        affine[:3, 3] = self.origin
        return affine
