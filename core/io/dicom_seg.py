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
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from core.annotation.label_volume import require_labels
from core.errors import ExportError
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
    frames = np.stack([_frame_for(ds, labels, volume) for ds in sources])
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
            found[uid] = ds
    missing = [uid for uid in volume.sop_uids if uid not in found]
    if missing:
        raise ExportError(f"{len(missing)} of the CT's {len(volume.sop_uids)} DICOM files are missing from "
                          f"{folder}; a DICOM SEG needs the whole source series")
    return [found[uid] for uid in volume.sop_uids]


def _frame_for(ds: pydicom.Dataset, labels: np.ndarray, volume: Volume) -> np.ndarray:
    """The mask of one source image in its own pixel layout (rows, columns), sampled from `labels`."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    orientation = np.asarray(ds.ImageOrientationPatient, float)
    row_spacing, col_spacing = (float(v) for v in ds.PixelSpacing)
    r, c = np.mgrid[0:rows, 0:cols]
    points = (np.asarray(ds.ImagePositionPatient, float)[None, :]
              + c.reshape(-1, 1) * col_spacing * orientation[None, :3]
              + r.reshape(-1, 1) * row_spacing * orientation[None, 3:])
    index = (points - volume.affine_lps()[:3, 3]) @ np.linalg.inv(volume.affine_lps()[:3, :3]).T
    nearest = np.rint(index).astype(int)
    if np.abs(index - nearest).max() > 0.1 or np.any(nearest < 0) or np.any(nearest >= volume.shape):
        raise ExportError(f"DICOM file {ds.SOPInstanceUID} does not lie on the CT's voxel grid; "
                          "reload the series and export again")
    return labels[nearest[:, 0], nearest[:, 1], nearest[:, 2]].reshape(rows, cols)
