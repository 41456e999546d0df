"""The in-memory CT volume every loader returns, in the one canonical orientation.

Canonical orientation (every loader returns it, every exporter names slices by it):
  axis 0, slice: index 0 is the most superior slice (head end), growing toward the feet;
  axis 1, row:   anterior to posterior;
  axis 2, col:   patient's right to patient's left (radiological display).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Volume:
    """A CT in Hounsfield units, shape [slice, row, col]."""

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
