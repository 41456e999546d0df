"""The mandible as a DICOM Segmentation (highdicom) that references the CT series it was drawn on.

A PACS or 3D Slicer then shows it over the original CT. The SEG needs the source series'
headers (UIDs, patient and study modules, plane positions): they are read again, without
pixel data, from the folder the Volume was loaded from and matched by SOP Instance UID.
A CT loaded from NIfTI or an image stack has no such UIDs, so it cannot get a DICOM SEG.

Like every export, the SEG carries no patient identity: the patient and study attributes highdicom
would copy are written empty; the UIDs that tie it to the CT stay (decision 103).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from core.annotation.label_volume import require_labels
from core.errors import ExportError
from core.io.dicom_frames import FrameDescription, describe_frames
from core.io.files import regular_files
from core.io.mesh_export import writable_path
from core.volume import Volume

log = logging.getLogger(__name__)

MANDIBLE_CODE = hd.sr.CodedConcept("91609006", "SCT", "Mandible")
SOFTWARE = ("Mandible Studio", "0.1.0")
# Type 2 attributes highdicom copies from the source: written empty, so no identity leaves the app.
TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                "ReferringPhysicianName", "StudyID", "AccessionNumber")


def export_dicom_seg(path: str | Path, labels: np.ndarray, volume: Volume,
                     algorithm: str = "MANUAL") -> Path:
    """Write a binary DICOM SEG of `labels` ([slice, row, col]) referencing `volume`'s DICOM series."""
    path = Path(path)
    sources = source_datasets(volume)
    labels = require_labels(labels, volume)
    frames = np.stack([_frame_for(plane, labels, volume) for ds in sources for plane in _planes(ds)])
    segment = hd.seg.SegmentDescription(
        segment_number=1, segment_label="Mandible",
        segmented_property_category=codes.SCT.Tissue, segmented_property_type=MANDIBLE_CODE,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues[algorithm],
        algorithm_identification=None if algorithm == "MANUAL" else hd.AlgorithmIdentificationSequence(
            name="Mandible Studio residual-CBAM U-Net", version=SOFTWARE[1],
            family=codes.DCM.ArtificialIntelligence))
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=frames, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[segment], series_instance_uid=hd.UID(), series_number=900,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer=SOFTWARE[0],
        manufacturer_model_name=SOFTWARE[0], software_versions=SOFTWARE[1], device_serial_number="none",
        series_description="Mandible segmentation")
    with writable_path(path) as tmp:
        seg.save_as(tmp)
    log.info("wrote DICOM SEG %s (%d frames) for series %s", path, seg.NumberOfFrames, volume.series_uid)
    return path


def source_datasets(volume: Volume) -> list[pydicom.Dataset]:
    """The CT's DICOM headers (no pixels) in canonical slice order; ExportError if they are not there."""
    if not volume.sop_uids or not volume.series_uid:
        kind = "NIfTI file" if volume.source and str(volume.source).lower().endswith((".nii", ".nii.gz")) \
            else "non-DICOM input"
        raise ExportError(f"a DICOM SEG must reference the CT's DICOM series, but '{volume.name}' was loaded "
                          f"from a {kind}; open the original DICOM folder, or export NIfTI or STL instead")
    folder = Path(volume.source) if volume.source else None
    if folder is None or not folder.is_dir():
        raise ExportError(f"the DICOM folder of '{volume.name}' ({folder}) is no longer there; "
                          "a DICOM SEG needs the source series' files")
    wanted = set(volume.sop_uids)
    found: dict[str, pydicom.Dataset] = {}
    for file in regular_files(folder, recursive=True):
        try:
            ds = pydicom.dcmread(file, stop_before_pixels=True)
        except Exception:  # not DICOM: other files in the folder are allowed
            continue
        uid = str(getattr(ds, "SOPInstanceUID", ""))
        if uid in wanted and str(getattr(ds, "SeriesInstanceUID", "")) == volume.series_uid:
            for keyword in TYPE2_COPIED:
                setattr(ds, keyword, "")
            found[uid] = _shared_geometry(ds)
    files = list(dict.fromkeys(volume.sop_uids))  # a multi-frame file holds many slices under one UID
    missing = [uid for uid in files if uid not in found]
    if missing:
        raise ExportError(f"{len(missing)} of the CT's {len(files)} DICOM files are missing from "
                          f"{folder}; a DICOM SEG needs the whole source series")
    if len(files) > 1 and len(files) < len(volume.sop_uids):
        raise ExportError(f"the CT is {len(files)} multi-frame DICOM files; a DICOM SEG can reference one "
                          "multi-frame file or single-frame files only: export NIfTI or STL instead")
    return [found[uid] for uid in files]


def _shared_geometry(ds: pydicom.Dataset) -> pydicom.Dataset:
    """`ds` with its frames' pixel measures and orientation in the shared group when every frame has the same.

    highdicom reads them only from the shared group; an Enhanced CT may repeat them in every frame instead.
    """
    if "PerFrameFunctionalGroupsSequence" not in ds or "SharedFunctionalGroupsSequence" not in ds:
        return ds
    shared, frames = ds.SharedFunctionalGroupsSequence[0], ds.PerFrameFunctionalGroupsSequence
    for keyword in ("PixelMeasuresSequence", "PlaneOrientationSequence"):
        given = [frame.get(keyword) for frame in frames]
        if keyword not in shared and given[0] is not None and all(g == given[0] for g in given):
            setattr(shared, keyword, given[0])
    return ds


@dataclass(frozen=True)
class _Plane:
    """Where one source image (or one frame of a multi-frame source) lies: its pixel grid in patient mm."""

    uid: str
    rows: int
    cols: int
    position: tuple[float, ...]
    orientation: tuple[float, ...]
    spacing: tuple[float, float]


def _planes(ds: pydicom.Dataset) -> list[_Plane]:
    """One plane per frame of a source image, in the order of its frames."""
    rows, cols, uid = int(ds.Rows), int(ds.Columns), str(ds.SOPInstanceUID)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return [_Plane(uid, rows, cols, tuple(ds.ImagePositionPatient), tuple(ds.ImageOrientationPatient),
                       tuple(float(v) for v in ds.PixelSpacing))]
    top = FrameDescription(None, None, None, None, None, 1.0, 0.0)
    described = describe_frames(ds, frames, rows, cols, top)
    if isinstance(described, str) or any(None in (d.position, d.orientation, d.pixel_spacing) for d in described):
        raise ExportError(f"the multi-frame DICOM file {uid} does not say where each frame lies; "
                          "export NIfTI or STL instead")
    return [_Plane(uid, rows, cols, d.position, d.orientation, d.pixel_spacing) for d in described]


def _frame_for(plane: _Plane, labels: np.ndarray, volume: Volume) -> np.ndarray:
    """The mask of one source image in its own pixel layout (rows, columns), sampled from `labels`."""
    rows, cols = plane.rows, plane.cols
    orientation = np.asarray(plane.orientation, float)
    row_spacing, col_spacing = plane.spacing
    r, c = np.mgrid[0:rows, 0:cols]
    points = (np.asarray(plane.position, float)[None, :]
              + c.reshape(-1, 1) * col_spacing * orientation[None, :3]
              + r.reshape(-1, 1) * row_spacing * orientation[None, 3:])
    index = (points - volume.affine_lps()[:3, 3]) @ np.linalg.inv(volume.affine_lps()[:3, :3]).T
    nearest = np.rint(index).astype(int)
    if np.abs(index - nearest).max() > 0.1 or np.any(nearest < 0) or np.any(nearest >= volume.shape):
        raise ExportError(f"DICOM file {plane.uid} does not lie on the CT's voxel grid; "
                          "reload the series and export again")
    return labels[nearest[:, 0], nearest[:, 1], nearest[:, 2]].reshape(rows, cols)
