"""DICOM series in: the entry point that scans, picks a series, decodes it and assembles a canonical Volume.

The work is split along its steps: core.io.dicom_scan reads the headers of a folder and groups
them into series, core.io.dicom_decode turns one slice's pixel data into values,
core.io.dicom_geometry orders the slices and places them in patient space. This module picks the
series, checks that its slices belong together, applies RescaleSlope/Intercept and reorients the
result to the canonical orientation (see decision 002).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from collections import defaultdict
from pathlib import Path

import numpy as np

from core.errors import DicomSeriesError, InputError
from core.io.dicom_decode import decode_all, series_thumbnail
from core.io.dicom_geometry import order_slices
from core.io.dicom_scan import (DicomScan, Progress, SeriesInfo, SliceHeader, looks_like_dicom, read_file_headers,
                                scan_dicom_folder)
from core.io.limits import check_volume_size, finite_values
from core.io.nifti import canonicalize, volume_geometry
from core.volume import Volume

__all__ = ["DicomScan", "MultipleSeriesError", "Progress", "SeriesInfo", "SliceHeader", "choose_series",
           "load_dicom_file_series", "load_dicom_series", "load_series_from_scan", "read_file_headers",
           "scan_dicom_folder"]

log = logging.getLogger(__name__)


class MultipleSeriesError(DicomSeriesError):
    """The folder holds several series and none was chosen; `.series` lists them, with thumbnails."""

    def __init__(self, message: str, series: list[SeriesInfo]):
        super().__init__(message)
        self.series = series


def _check_consistent(headers: list[SliceHeader]) -> None:
    sizes = defaultdict(list)
    for h in headers:
        sizes[(h.rows, h.cols)].append(h.path)
    if len(sizes) > 1:
        parts = [f"{len(p)} of {r}x{c} (e.g. {p[0].name})" for (r, c), p in sorted(sizes.items(), key=lambda i: -len(i[1]))]
        raise DicomSeriesError("The series mixes slice sizes: " + ", ".join(parts)
                               + ". Remove the odd files or choose another series.")
    if headers[0].samples != 1:
        raise DicomSeriesError("The series is in colour (RGB); a grayscale CT series is needed.")
    check_volume_size((len(headers), headers[0].rows, headers[0].cols), f"The series in {headers[0].path.parent}")


def choose_series(scan: DicomScan, series_uid: str | None) -> list[SliceHeader]:
    """The headers of the chosen series; errors that list what the folder holds."""
    if not scan.series:
        reasons = "; ".join(f"{p.name}: {r}" for p, r in scan.skipped[:3])
        raise DicomSeriesError(f"No DICOM image series found in {scan.root} ({len(scan.skipped)} files skipped"
                               + (f": {reasons}" if reasons else "") + "). Choose a folder with CT slices.")
    if series_uid is None:
        if len(scan.series) > 1:
            listing = "; ".join(s.label() for s in scan.series)
            series = [dataclasses.replace(s, thumbnail=series_thumbnail(scan.headers[s.uid])) for s in scan.series]
            raise MultipleSeriesError(f"{scan.root} holds {len(scan.series)} series; choose one: {listing}", series)
        series_uid = scan.series[0].uid
    if series_uid not in scan.headers:
        raise DicomSeriesError(f"Series {series_uid} is not in {scan.root}; it holds "
                               + ", ".join(s.uid for s in scan.series) + ".")
    return scan.headers[series_uid]


def _skip_warnings(scan: DicomScan) -> list[str]:
    damaged = [(p, r) for p, r in scan.skipped if looks_like_dicom(p) and not r.startswith("DICOMDIR")]
    if not damaged:
        return []
    examples = "; ".join(f"{p.name}: {r}" for p, r in damaged[:3])
    return [f"{len(damaged)} file(s) skipped ({examples})"]


def _in_order(volume: np.ndarray, decoded: list[int], order: list[int]) -> np.ndarray:
    """The decoded rows of `volume` (file order) moved into `order` (indexes into the file order) in place, one
    slice held aside at a time; returns the first len(order) rows."""
    row_of = {index: row for row, index in enumerate(decoded)}
    if len(decoded) != len(volume):  # failed files leave gaps: close them, keeping file order
        for row, index in enumerate(decoded):
            if row != index:
                volume[row] = volume[index]
    source = [row_of[index] for index in order]  # target row -> the row that holds its slice now
    done = [False] * len(source)
    for start in range(len(source)):
        if done[start] or source[start] == start:
            continue
        held, target = volume[start].copy(), start
        while True:  # follow the cycle: each row takes its slice, the last one takes the held slice
            done[target] = True
            following = source[target]
            if following == start:
                volume[target] = held
                break
            volume[target] = volume[following]
            target = following
    return volume[:len(order)]


def load_series_from_scan(scan: DicomScan, series_uid: str | None = None, progress: Progress = None,
                          cancel: threading.Event | None = None, report_skipped: bool = True) -> Volume:
    """Decode one series of a scan into a canonical HU Volume.

    `report_skipped=False` leaves out the warning about other files of the folder that were skipped
    (the user opened one file and never chose them).
    """
    headers = choose_series(scan, series_uid)
    _check_consistent(headers)
    stack, decoded, warnings = decode_all(headers, progress, cancel)
    if not decoded:
        raise DicomSeriesError(f"None of the {len(headers)} files of the series could be decoded: {warnings[0]}")
    placed = order_slices([headers[i] for i in decoded])
    order = placed.headers
    index_of = {id(header): i for i, header in enumerate(headers)}
    hu = _in_order(stack, decoded, [index_of[id(header)] for header in order])
    hu, value_warnings = finite_values(hu, f"The series in {order[0].path.parent}")
    hu, affine, ornt = canonicalize(hu, placed.affine, in_place=True)
    geometry_warnings = placed.warnings + value_warnings
    sop_uids = [h.sop_uid for h in order]
    if int(ornt[0][0]) != 0:
        sop_uids = None
        geometry_warnings.append("The series was acquired sagittally or coronally and was reformatted to axial slices.")
    elif ornt[0][1] < 0:
        sop_uids.reverse()
    first = order[0]
    skipped = _skip_warnings(scan) if report_skipped else []
    return Volume(
        hu=hu, name=first.description or first.path.parent.name, source=scan.root,
        series_uid=first.series_uid, study_uid=first.study_uid, frame_of_reference_uid=first.frame_of_reference_uid,
        sop_uids=sop_uids, warnings=skipped + warnings + geometry_warnings,
        units="HU" if first.modality == "CT" else "display", **volume_geometry(affine),
        spacing_known=placed.spacing_known, patient=first.patient, declared_padding=_rescaled_padding(first),
    )


def _rescaled_padding(header: SliceHeader) -> tuple[float, float] | None:
    """The file's padding range in the volume's units (core.calibration makes it air)."""
    if header.padding is None:
        return None
    low, high = sorted(header.slope * v + header.intercept for v in header.padding)
    return float(low), float(high)


def load_dicom_series(path: str | Path, series_uid: str | None = None, progress: Progress = None,
                      cancel: threading.Event | None = None) -> Volume:
    """Scan `path` and load one series (the only one, or `series_uid`) as a canonical Volume."""
    scan = scan_dicom_folder(path, progress=progress, cancel=cancel)
    volume = load_series_from_scan(scan, series_uid, progress=progress, cancel=cancel)
    _log_warnings(path, volume)
    return volume


def load_dicom_file_series(path: str | Path, progress: Progress = None,
                           cancel: threading.Event | None = None) -> Volume:
    """The series one DICOM file belongs to, from that file's own folder (not its subfolders).

    Files of other series and files that are not DICOM images are left alone without a word:
    the user chose this file, not the folder (issue 13 item 5).
    """
    path = Path(path)
    headers = read_file_headers(path)
    if isinstance(headers, str):
        raise InputError(f"{path.name} cannot be opened: {headers}.")
    header = headers[0]
    scan = scan_dicom_folder(path.parent, progress=progress, cancel=cancel, recursive=False)
    if header.series_uid not in scan.headers:  # the file changed between the two reads
        raise InputError(f"{path.name} could not be read again; check the file and open it again.")
    volume = load_series_from_scan(scan, header.series_uid, progress=progress, cancel=cancel, report_skipped=False)
    _log_warnings(path, volume)
    return volume


def _log_warnings(path: str | Path, volume: Volume) -> None:
    for warning in volume.warnings:
        log.warning("%s: %s", path, warning)


def slice_of_file(volume: Volume, path: str | Path) -> int | None:
    """The slice of `volume` that the single-frame DICOM file `path` holds (by its SOP Instance UID); None when it is
    not one of them, holds several frames, or the series was reformatted."""
    headers = read_file_headers(Path(path))
    if isinstance(headers, str) or len(headers) != 1 or not volume.sop_uids or not headers[0].sop_uid:
        return None
    try:
        return volume.sop_uids.index(headers[0].sop_uid)
    except ValueError:
        return None
