"""DICOM series in: scan a folder (headers only), pick a series, decode it into a canonical Volume.

Scanning reads each file up to, not into, its pixel data, so a folder of thousands of files is
listed in well under a second. Loading decodes the chosen series (uncompressed pixel data is
read straight from the file; RLE, JPEG and JPEG 2000 go through pydicom's decoders and the
pylibjpeg plugins) on a small thread pool, applies RescaleSlope/Intercept and reorients the
result to the canonical orientation with the direction cosines (see decision 002).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pydicom
from pydicom.pixels import get_decoder
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from core.errors import Cancelled, DicomSeriesError, InputError
from core.io.dicom_geometry import NO_PIXEL_SPACING, NO_SLICE_SPACING, order_slices
from core.io.nifti import canonicalize, volume_geometry
from core.volume import Volume

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None] | None

# Header elements the scan reads, by tag, with how their bytes are parsed (see _raw_value).
_TAGS = {
    "SOPClassUID": (0x00080016, "str"), "SOPInstanceUID": (0x00080018, "str"),
    "StudyInstanceUID": (0x0020000D, "str"), "SeriesInstanceUID": (0x0020000E, "str"),
    "FrameOfReferenceUID": (0x00200052, "str"), "Modality": (0x00080060, "str"),
    "SeriesDescription": (0x0008103E, "str"), "SeriesNumber": (0x00200011, "num"),
    "InstanceNumber": (0x00200013, "num"), "ImagePositionPatient": (0x00200032, "nums"),
    "ImageOrientationPatient": (0x00200037, "nums"), "PixelSpacing": (0x00280030, "nums"),
    "ImagerPixelSpacing": (0x00181164, "nums"), "SliceThickness": (0x00180050, "num"),
    "SpacingBetweenSlices": (0x00180088, "num"), "Rows": (0x00280010, "US"), "Columns": (0x00280011, "US"),
    "SamplesPerPixel": (0x00280002, "US"), "BitsAllocated": (0x00280100, "US"),
    "BitsStored": (0x00280101, "US"), "PixelRepresentation": (0x00280103, "US"),
    "RescaleSlope": (0x00281053, "num"), "RescaleIntercept": (0x00281052, "num"),
    "NumberOfFrames": (0x00280008, "num"), "PhotometricInterpretation": (0x00280004, "str"),
}
_NON_IMAGE_SOP_CLASSES = {
    "1.2.840.10008.1.3.10",  # Media Storage Directory (DICOMDIR)
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation (a label map, not a CT)
}
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian
_NATIVE_SYNTAXES = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}
_DICOM_SUFFIXES = {"", ".dcm", ".dicom", ".ima", ".img"}
_DECODE_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class SliceHeader:
    """What the scan keeps of one file: enough to group, sort, check and decode it."""

    path: Path
    series_uid: str
    sop_uid: str
    study_uid: str | None
    frame_of_reference_uid: str | None
    modality: str
    description: str
    series_number: int | None
    instance_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    spacing_between_slices: float | None
    rows: int
    cols: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    slope: float
    intercept: float
    transfer_syntax: str
    pixel_offset: int
    photometric: str = "MONOCHROME2"


@dataclass(frozen=True)
class SeriesInfo:
    """One series found by a scan, for a chooser dialog or a log line."""

    uid: str
    description: str
    modality: str
    num_files: int
    rows: int
    cols: int
    series_number: int | None = None
    study_uid: str | None = None
    folder: Path | None = None

    def label(self) -> str:
        return f"{self.description or '(no description)'} — {self.modality}, {self.num_files} files, " \
               f"{self.rows}x{self.cols} [{self.uid}]"


@dataclass
class DicomScan:
    """Result of scan_dicom_folder: the series found and every file left out, with the reason."""

    root: Path
    series: list[SeriesInfo] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    headers: dict[str, list[SliceHeader]] = field(default_factory=dict)


class MultipleSeriesError(DicomSeriesError):
    """The folder holds several series and none was chosen; `.series` lists them."""

    def __init__(self, message: str, series: list[SeriesInfo]):
        super().__init__(message)
        self.series = series


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Loading was cancelled.")


def _raw_value(ds: pydicom.Dataset, name: str):
    """One header value parsed straight from its bytes (pydicom's per-element conversion costs ~10x more)."""
    tag, kind = _TAGS[name]
    elem = ds.get_item(tag)
    if elem is None or elem.value is None:
        return None
    value = elem.value
    if not isinstance(value, bytes):  # already converted by pydicom (e.g. deflated files)
        value = ("\\".join(map(str, value)) if isinstance(value, (list, tuple, pydicom.multival.MultiValue))
                 else str(value)).encode()
        kind = "num" if kind == "US" else kind
    if kind == "US":
        return int.from_bytes(value[:2], "little" if elem.is_little_endian else "big") if len(value) >= 2 else None
    text = value.decode("utf-8", "replace").strip(" \x00")
    if kind == "str":
        return text or None
    try:
        numbers = [float(v) for v in text.split("\\")]
    except ValueError:
        return None
    if kind == "nums":
        return tuple(numbers)
    return numbers[0] if len(numbers) == 1 else None


def _values(ds: pydicom.Dataset) -> dict:
    return {name: _raw_value(ds, name) for name in _TAGS}


def _as_tuple(value, count: int):
    return value if value is not None and len(value) == count else None


def _as_int(value) -> int | None:
    return int(value) if value is not None else None


def _header_from(v: dict, transfer_syntax: str, path: Path, pixel_offset: int) -> SliceHeader:
    return SliceHeader(
        path=path, series_uid=v["SeriesInstanceUID"], sop_uid=v["SOPInstanceUID"] or "",
        study_uid=v["StudyInstanceUID"], frame_of_reference_uid=v["FrameOfReferenceUID"],
        modality=v["Modality"] or "", description=v["SeriesDescription"] or "",
        series_number=_as_int(v["SeriesNumber"]), instance_number=_as_int(v["InstanceNumber"]),
        position=_as_tuple(v["ImagePositionPatient"], 3), orientation=_as_tuple(v["ImageOrientationPatient"], 6),
        pixel_spacing=_as_tuple(v["PixelSpacing"] or v["ImagerPixelSpacing"], 2),
        slice_thickness=v["SliceThickness"], spacing_between_slices=v["SpacingBetweenSlices"],
        rows=v["Rows"], cols=v["Columns"], samples=v["SamplesPerPixel"] or 1,
        bits_allocated=v["BitsAllocated"] or 16, bits_stored=v["BitsStored"] or v["BitsAllocated"] or 16,
        signed=bool(v["PixelRepresentation"]),
        slope=v["RescaleSlope"] if v["RescaleSlope"] is not None else 1.0,
        intercept=v["RescaleIntercept"] or 0.0, transfer_syntax=transfer_syntax, pixel_offset=pixel_offset,
        photometric=v["PhotometricInterpretation"] or "MONOCHROME2",
    )


def read_slice_header(path: Path) -> SliceHeader | str:
    """The header of one file, or the reason it is not a usable DICOM image slice."""
    if path.name.upper() == "DICOMDIR":
        return "DICOMDIR index file (the images are read from their own files)"
    try:
        with open(path, "rb") as fp:
            if fp.read(132)[128:132] != b"DICM":
                return "not a DICOM file (no DICM preamble)"
            fp.seek(0)
            ds = pydicom.dcmread(fp, stop_before_pixels=True, defer_size=4096)
            pixel_offset = fp.tell()
            has_pixels = fp.read(4) == _PIXEL_DATA_TAG
            size = os.fstat(fp.fileno()).st_size
        values = _values(ds)
        transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", ImplicitVRLittleEndian))
    except Exception as exc:  # pydicom raises many types for damaged headers
        return f"unreadable DICOM header ({exc.__class__.__name__}: {exc})"
    if (values["SOPClassUID"] in _NON_IMAGE_SOP_CLASSES or not values["Rows"] or not values["Columns"]
            or not values["SeriesInstanceUID"]):
        return f"not an image (SOP class {values['SOPClassUID']})"
    if not has_pixels:
        return "no pixel data"
    if values["NumberOfFrames"] not in (None, 1.0):
        return "multi-frame (enhanced) DICOM is not supported; export the series as single-frame files"
    header = _header_from(values, transfer_syntax, path, pixel_offset)
    if header.transfer_syntax in _NATIVE_SYNTAXES and pixel_offset + _native_bytes(header) > size:
        return "truncated file (pixel data ends early)"
    return header


def _native_bytes(h: SliceHeader) -> int:
    return h.rows * h.cols * h.samples * (h.bits_allocated // 8)


def _looks_like_dicom(path: Path) -> bool:
    return path.suffix.lower() in _DICOM_SUFFIXES


def _files_under(root: Path) -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(folder, n) for n in sorted(names) if not n.startswith("."))
    return files


def scan_dicom_folder(path: str | Path, progress: Progress = None,
                      cancel: threading.Event | None = None) -> DicomScan:
    """List the image series under `path` (recursively) from the file headers only."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root} does not exist; choose a folder with DICOM files.")
    files = [root] if root.is_file() else _files_under(root)
    scan = DicomScan(root=root)
    headers: dict[str, list[SliceHeader]] = defaultdict(list)
    for step, file in enumerate(files):
        _check_cancel(cancel)
        if progress is not None and step % 32 == 0:
            progress(step, len(files), f"Reading DICOM headers ({step}/{len(files)})")
        result = read_slice_header(file)
        if isinstance(result, str):
            scan.skipped.append((file, result))
        else:
            headers[result.series_uid].append(result)
    scan.headers = dict(headers)
    scan.series = sorted((_series_info(v) for v in headers.values()),
                         key=lambda s: (s.series_number is None, s.series_number or 0, -s.num_files))
    if progress is not None:
        progress(len(files), len(files), f"Found {len(scan.series)} series")
    return scan


def _series_info(headers: list[SliceHeader]) -> SeriesInfo:
    first = headers[0]
    return SeriesInfo(uid=first.series_uid, description=first.description, modality=first.modality,
                      num_files=len(headers), rows=first.rows, cols=first.cols, series_number=first.series_number,
                      study_uid=first.study_uid, folder=first.path.parent)


def _decode(header: SliceHeader) -> np.ndarray:
    """The stored pixel values of one slice as a 2-D array (no rescale)."""
    native = (header.transfer_syntax in _NATIVE_SYNTAXES and header.samples == 1
              and header.bits_allocated in (8, 16) and (not header.signed or header.bits_stored == header.bits_allocated))
    if not native:
        return _decode_by_pydicom(header)
    dtype = np.dtype(f"<{'i' if header.signed else 'u'}{header.bits_allocated // 8}")
    with open(header.path, "rb") as fp:
        fp.seek(header.pixel_offset + _element_header_bytes(header))
        data = fp.read(_native_bytes(header))
    if len(data) != _native_bytes(header):
        raise ValueError("truncated pixel data")
    return np.frombuffer(data, dtype).reshape(header.rows, header.cols)


def _element_header_bytes(header: SliceHeader) -> int:
    """Bytes before the PixelData value: tag + length (implicit VR), tag + VR + reserved + length (explicit)."""
    return 8 if header.transfer_syntax == ImplicitVRLittleEndian else 12


def _decode_by_pydicom(header: SliceHeader) -> np.ndarray:
    """Decode with pydicom's decoders (RLE, JPEG, JPEG-LS, JPEG 2000 via pylibjpeg) from the scan's
    offset, without parsing the header again; pydicom's full read is the fallback for anything unusual."""
    try:
        with open(header.path, "rb") as fp:
            fp.seek(header.pixel_offset + _element_header_bytes(header))
            data = fp.read()
        arr, _ = get_decoder(header.transfer_syntax).as_array(
            data, rows=header.rows, columns=header.cols, samples_per_pixel=header.samples,
            bits_allocated=header.bits_allocated, bits_stored=header.bits_stored,
            pixel_representation=int(header.signed), photometric_interpretation=header.photometric,
            number_of_frames=1, planar_configuration=0)
    except Exception as exc:  # decoders raise many types; the full path may still succeed
        log.debug("fast decode of %s failed (%s); using pydicom's full read", header.path, exc)
        arr = pydicom.dcmread(header.path).pixel_array
    if arr.ndim != 2:
        raise ValueError(f"pixel data has shape {arr.shape}; one grayscale frame was expected")
    return arr


def _rescale_into(out: np.ndarray, index: int, raw: np.ndarray, header: SliceHeader) -> np.ndarray:
    """Write slope*raw+intercept into out[index]; returns `out`, promoted to float32 if int16 cannot hold it."""
    if out.dtype == np.int16:
        values = raw.astype(np.int32)
        if header.slope != 1.0:
            values *= int(header.slope)
        values += int(header.intercept)
        if values.size == 0 or (values.min() >= -32768 and values.max() <= 32767):
            out[index] = values
            return out
        log.info("rescaled values exceed int16; the volume is kept as float32")
        out = out.astype(np.float32)
    out[index] = raw.astype(np.float32) * np.float32(header.slope) + np.float32(header.intercept)
    return out


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


def choose_series(scan: DicomScan, series_uid: str | None) -> list[SliceHeader]:
    """The headers of the chosen series; errors that list what the folder holds."""
    if not scan.series:
        reasons = "; ".join(f"{p.name}: {r}" for p, r in scan.skipped[:3])
        raise DicomSeriesError(f"No DICOM image series found in {scan.root} ({len(scan.skipped)} files skipped"
                               + (f": {reasons}" if reasons else "") + "). Choose a folder with CT slices.")
    if series_uid is None:
        if len(scan.series) > 1:
            listing = "; ".join(s.label() for s in scan.series)
            raise MultipleSeriesError(f"{scan.root} holds {len(scan.series)} series; choose one: {listing}",
                                      scan.series)
        series_uid = scan.series[0].uid
    if series_uid not in scan.headers:
        raise DicomSeriesError(f"Series {series_uid} is not in {scan.root}; it holds "
                               + ", ".join(s.uid for s in scan.series) + ".")
    return scan.headers[series_uid]


def _skip_warnings(scan: DicomScan) -> list[str]:
    damaged = [(p, r) for p, r in scan.skipped if _looks_like_dicom(p) and not r.startswith("DICOMDIR")]
    if not damaged:
        return []
    examples = "; ".join(f"{p.name}: {r}" for p, r in damaged[:3])
    return [f"{len(damaged)} file(s) skipped ({examples})"]


def _decode_all(headers: list[SliceHeader], progress: Progress, cancel: threading.Event | None):
    """Decode every slice; returns ({index: raw}, warnings for failed files)."""
    raws: dict[int, np.ndarray] = {}
    warnings: list[str] = []
    # Threads help reading uncompressed files; pydicom's decoders hold the GIL and get slower with them.
    native = all(h.transfer_syntax in _NATIVE_SYNTAXES for h in headers)
    with ThreadPoolExecutor(max_workers=_DECODE_THREADS if native else 1) as pool:
        futures = [pool.submit(_decode, h) for h in headers]
        for i, future in enumerate(futures):
            if cancel is not None and cancel.is_set():
                for f in futures:
                    f.cancel()
                raise Cancelled("Loading was cancelled.")
            try:
                raws[i] = future.result()
            except Exception as exc:  # a damaged file must not stop the series
                warnings.append(f"{headers[i].path.name} could not be decoded and was left out ({exc})")
            if progress is not None and i % 8 == 0:
                progress(i, len(headers), f"Decoding slice {i + 1}/{len(headers)}")
    return raws, warnings


def load_series_from_scan(scan: DicomScan, series_uid: str | None = None, progress: Progress = None,
                          cancel: threading.Event | None = None) -> Volume:
    """Decode one series of a scan into a canonical HU Volume."""
    headers = choose_series(scan, series_uid)
    _check_consistent(headers)
    raws, warnings = _decode_all(headers, progress, cancel)
    if not raws:
        raise DicomSeriesError(f"None of the {len(headers)} files of the series could be decoded: {warnings[0]}")
    kept = [headers[i] for i in sorted(raws)]
    order, affine, geometry_warnings = order_slices(kept)
    exact = all(float(h.slope).is_integer() and float(h.intercept).is_integer() for h in kept)
    hu = np.empty((len(order), kept[0].rows, kept[0].cols), np.int16 if exact else np.float32)
    raw_by_header = {id(headers[i]): raw for i, raw in raws.items()}
    for index, header in enumerate(order):
        hu = _rescale_into(hu, index, raw_by_header[id(header)], header)
    hu, affine, ornt = canonicalize(hu, affine)
    sop_uids = [h.sop_uid for h in order]
    if int(ornt[0][0]) != 0:
        sop_uids = None
        geometry_warnings.append("The series was acquired sagittally or coronally and was reformatted to axial slices.")
    elif ornt[0][1] < 0:
        sop_uids.reverse()
    first = order[0]
    return Volume(
        hu=hu, name=first.description or first.path.parent.name, source=scan.root,
        series_uid=first.series_uid, study_uid=first.study_uid, frame_of_reference_uid=first.frame_of_reference_uid,
        sop_uids=sop_uids, warnings=_skip_warnings(scan) + warnings + geometry_warnings,
        units="HU" if first.modality == "CT" else "display", **volume_geometry(affine),
        spacing_known=not {NO_SLICE_SPACING, NO_PIXEL_SPACING} & set(geometry_warnings),
    )


def load_dicom_series(path: str | Path, series_uid: str | None = None, progress: Progress = None,
                      cancel: threading.Event | None = None) -> Volume:
    """Scan `path` and load one series (the only one, or `series_uid`) as a canonical Volume."""
    scan = scan_dicom_folder(path, progress=progress, cancel=cancel)
    volume = load_series_from_scan(scan, series_uid, progress=progress, cancel=cancel)
    for warning in volume.warnings:
        log.warning("%s: %s", path, warning)
    return volume
