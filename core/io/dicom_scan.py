"""DICOM scan: read the headers of a folder's files (never their pixels) and group them into series.

Scanning reads each file up to, not into, its pixel data, so a folder of thousands of files is
listed in well under a second. Only regular files are opened (a FIFO would block forever), and
every header is checked before it is kept: declared sizes against core.io.limits, rescale values
for being numbers. A file that fails is listed in `DicomScan.skipped` with the reason.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pydicom
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from core.errors import Cancelled, InputError
from core.io.dicom_frames import (MULTI_FRAME_VOLUMES, FrameDescription, describe_frames, frame_count,
                                  unsupported_kind)
from core.io.files import is_regular_file, regular_files
from core.io.limits import check_slice_size, valid_rescale
from core.volume import PatientInfo

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None] | None

# Header elements the scan reads, by tag, with how their bytes are parsed (see _raw_value).
_TAGS = {
    "SOPClassUID": (0x00080016, "str"), "SOPInstanceUID": (0x00080018, "str"),
    "StudyInstanceUID": (0x0020000D, "str"), "SeriesInstanceUID": (0x0020000E, "str"),
    "FrameOfReferenceUID": (0x00200052, "str"), "Modality": (0x00080060, "str"),
    "SeriesDescription": (0x0008103E, "text"), "SeriesNumber": (0x00200011, "num"),
    "InstanceNumber": (0x00200013, "num"), "ImagePositionPatient": (0x00200032, "nums"),
    "ImageOrientationPatient": (0x00200037, "nums"), "PixelSpacing": (0x00280030, "nums"),
    "ImagerPixelSpacing": (0x00181164, "nums"), "SliceThickness": (0x00180050, "num"),
    "SpacingBetweenSlices": (0x00180088, "num"), "Rows": (0x00280010, "US"), "Columns": (0x00280011, "US"),
    "SamplesPerPixel": (0x00280002, "US"), "BitsAllocated": (0x00280100, "US"),
    "BitsStored": (0x00280101, "US"), "PixelRepresentation": (0x00280103, "US"),
    "RescaleSlope": (0x00281053, "num"), "RescaleIntercept": (0x00281052, "num"),
    "NumberOfFrames": (0x00280008, "num"), "PhotometricInterpretation": (0x00280004, "str"),
    "PatientName": (0x00100010, "text"), "PatientID": (0x00100020, "text"),
    "PatientBirthDate": (0x00100030, "str"), "StudyDate": (0x00080020, "str"),
    "PixelPaddingValue": (0x00280120, "US"), "PixelPaddingRangeLimit": (0x00280121, "US"),
}
_NON_IMAGE_SOP_CLASSES = {
    "1.2.840.10008.1.3.10",  # Media Storage Directory (DICOMDIR)
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation (a label map, not a CT)
}
_PIXEL_DATA_TAG = {"<": b"\xe0\x7f\x10\x00", ">": b"\x7f\xe0\x00\x10"}  # (7FE0,0010)
NATIVE_SYNTAXES = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}
_DICOM_SUFFIXES = {"", ".dcm", ".dicom", ".ima", ".img"}
# Where the pixel data starts is unknown without inflating the whole file: pydicom reads it.
UNKNOWN_OFFSET = -1


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
    patient: PatientInfo = PatientInfo()
    # A multi-frame file gives one header per frame: this frame's index, of `frames` in the file.
    frame: int = 0
    frames: int = 1
    # Stored values outside the field of view (PixelPaddingValue to PixelPaddingRangeLimit), before rescale.
    padding: tuple[int, int] | None = None

    @property
    def native_bytes(self) -> int:
        """Size of one frame's uncompressed pixel data."""
        return self.rows * self.cols * self.samples * (self.bits_allocated // 8)


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
    patient: PatientInfo = PatientInfo()
    # Middle slice in the bone window, uint8, at most THUMBNAIL_SIZE on a side (filled for choosers).
    thumbnail: np.ndarray | None = field(default=None, compare=False, repr=False)
    # Slices in the series when they are frames of multi-frame files; None: one slice a file.
    num_frames: int | None = None

    @property
    def num_slices(self) -> int:
        return self.num_frames if self.num_frames is not None else self.num_files

    def extent(self) -> str:
        """How many files and slices, in words: "128 files" or "128 slices in 1 multi-frame file"."""
        if self.num_frames is None:
            return f"{self.num_files} files"
        return f"{self.num_frames} slices in {self.num_files} multi-frame file{'s' if self.num_files > 1 else ''}"

    def label(self) -> str:
        return f"{self.patient.summary()} — {self.description or '(no description)'} — {self.modality}, " \
               f"{self.extent()}, {self.rows}x{self.cols} [{self.uid}]"


@dataclass
class DicomScan:
    """Result of scan_dicom_folder: the series found and every file left out, with the reason."""

    root: Path
    series: list[SeriesInfo] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    headers: dict[str, list[SliceHeader]] = field(default_factory=dict)


def check_cancel(cancel: threading.Event | None) -> None:
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
        kind = {"US": "num", "text": "str"}.get(kind, kind)  # text: decoded already, now UTF-8 bytes
    if kind == "US":
        return int.from_bytes(value[:2], "little" if elem.is_little_endian else "big") if len(value) >= 2 else None
    if kind == "text" and not value.isascii():  # names and descriptions: in the file's own character set
        return decode_bytes(value, _encodings(ds), {0x5C, 0x3D, 0x5E}).strip(" \x00") or None
    text = value.decode("utf-8", "replace").strip(" \x00")
    if kind in ("str", "text"):
        return text or None
    try:
        numbers = [float(v) for v in text.split("\\")]
    except ValueError:
        return None
    if kind == "nums":
        return tuple(numbers)
    return numbers[0] if len(numbers) == 1 else None


def _encodings(ds: pydicom.Dataset) -> list[str]:
    """Python codecs for the file's SpecificCharacterSet (read raw; only asked for non-ASCII text)."""
    elem = ds.get_item(0x00080005)
    terms = elem.value if elem is not None else None
    if isinstance(terms, bytes):
        terms = [t.strip(" \x00") for t in terms.decode("ascii", "replace").split("\\")]
    elif isinstance(terms, str):
        terms = [terms]
    try:
        return convert_encodings(terms or None)
    except Exception:  # an unknown character set: read as UTF-8, replacing what does not fit
        return ["utf_8"]


def _values(ds: pydicom.Dataset) -> dict:
    return {name: _raw_value(ds, name) for name in _TAGS}


def _as_tuple(value, count: int):
    return value if value is not None and len(value) == count else None


def _as_int(value) -> int | None:
    return int(value) if value is not None and abs(value) < 2**31 else None


def _date(value: str | None) -> str:
    """DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as given."""
    if value and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value or ""


def _person_name(value: str | None) -> str:
    """DICOM PN "Family^Given^Middle" as "Family, Given Middle"."""
    if not value:
        return ""
    family, _, rest = value.split("=")[0].partition("^")
    given = " ".join(part for part in rest.split("^")[:2] if part)
    return f"{family}, {given}" if family and given else family or given


def _patient(v: dict) -> PatientInfo:
    return PatientInfo(name=_person_name(v["PatientName"]), patient_id=v["PatientID"] or "",
                       birth_date=_date(v["PatientBirthDate"]), study_date=_date(v["StudyDate"]),
                       series_description=v["SeriesDescription"] or "")


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
        photometric=v["PhotometricInterpretation"] or "MONOCHROME2", patient=_patient(v),
        padding=_padding(v["PixelPaddingValue"], v["PixelPaddingRangeLimit"], bool(v["PixelRepresentation"])),
    )


def _padding(value, limit, signed: bool) -> tuple[int, int] | None:
    """(low, high) stored padding values; US/SS bytes are read unsigned, so signed pixels take them back."""
    if value is None:
        return None
    ends = [int(v) - 65536 if signed and 32768 <= v < 65536 else int(v)
            for v in (value, value if limit is None else limit)]
    return min(ends), max(ends)


def _read_dataset(path: Path) -> tuple[pydicom.Dataset, str, int | None, int] | str:
    """(dataset without pixels, transfer syntax, pixel data offset or None without pixel data, file size),
    or why the file is not DICOM."""
    with open(path, "rb") as fp:
        if fp.read(132)[128:132] != b"DICM":
            return "not a DICOM file (no DICM preamble)"
        fp.seek(0)
        ds = pydicom.dcmread(fp, stop_before_pixels=True, defer_size=4096)
        transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", ImplicitVRLittleEndian))
        if transfer_syntax == DeflatedExplicitVRLittleEndian:
            return ds, transfer_syntax, UNKNOWN_OFFSET, 0
        pixel_offset = fp.tell()
        endian = ">" if transfer_syntax == pydicom.uid.ExplicitVRBigEndian else "<"
        has_pixels = fp.read(4) == _PIXEL_DATA_TAG[endian]
        return ds, transfer_syntax, pixel_offset if has_pixels else None, os.fstat(fp.fileno()).st_size


def read_file_headers(path: Path) -> list[SliceHeader] | str:
    """The slices of one file (one header, or one per frame of a multi-frame volume), or why it has none."""
    if path.name.upper() == "DICOMDIR":
        return "DICOMDIR index file (the images are read from their own files)"
    if not is_regular_file(path):
        return "not a regular file (a pipe, socket or device)"
    try:
        read = _read_dataset(path)
        if isinstance(read, str):
            return read
        ds, transfer_syntax, pixel_offset, size = read
        values = _values(ds)
    except Exception as exc:  # pydicom raises many types for damaged headers
        return f"unreadable DICOM header ({exc.__class__.__name__}: {exc})"
    if (values["SOPClassUID"] in _NON_IMAGE_SOP_CLASSES or not values["Rows"] or not values["Columns"]
            or not values["SeriesInstanceUID"]):
        return f"not an image (SOP class {values['SOPClassUID']})"
    if pixel_offset is None:
        return "no pixel data"
    frames = frame_count(values["NumberOfFrames"])
    refusal = frames if isinstance(frames, str) else unsupported_kind(values["SOPClassUID"], frames)
    if refusal:
        return refusal
    header = _header_from(values, transfer_syntax, path, pixel_offset)
    problem = _header_problem(header)
    if problem is None and transfer_syntax in NATIVE_SYNTAXES and pixel_offset + frames * header.native_bytes > size:
        problem = "truncated file (pixel data ends early)"
    if problem is not None:
        return problem
    return frame_headers(ds, header, frames) if values["SOPClassUID"] in MULTI_FRAME_VOLUMES else [header]


def frame_headers(ds: pydicom.Dataset, header: SliceHeader, frames: int) -> list[SliceHeader] | str:
    """One header per frame of a multi-frame volume, placed and rescaled by its functional groups."""
    top_level = FrameDescription(header.position, header.orientation, header.pixel_spacing, header.slice_thickness,
                                 header.spacing_between_slices, header.slope, header.intercept)
    described = describe_frames(ds, frames, header.rows, header.cols, top_level)
    if isinstance(described, str):
        return described
    return [replace(header, frame=index, frames=frames, **asdict(frame)) for index, frame in enumerate(described)]


def _header_problem(h: SliceHeader) -> str | None:
    """Why the declared image cannot be decoded into a CT slice, or None."""
    try:
        check_slice_size(h.rows, h.cols, "the header")
    except InputError as exc:
        return str(exc)
    if h.bits_allocated not in (8, 16, 32) or not 0 < h.bits_stored <= h.bits_allocated or h.samples not in (1, 3):
        return (f"unsupported pixel format ({h.samples} sample(s) of {h.bits_stored} bits in {h.bits_allocated}); "
                "the file is damaged or not a CT image")
    if not valid_rescale(h.slope, h.intercept):
        return (f"RescaleSlope {h.slope:g} with RescaleIntercept {h.intercept:g} gives no CT values; "
                "the file is damaged, export the series again")
    return None


def looks_like_dicom(path: Path) -> bool:
    return path.suffix.lower() in _DICOM_SUFFIXES


def scan_dicom_folder(path: str | Path, progress: Progress = None, cancel: threading.Event | None = None,
                      recursive: bool = True) -> DicomScan:
    """List the image series under `path` (in subfolders too, when `recursive`) from the file headers only."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root} does not exist; choose a folder with DICOM files.")
    files = [root] if not root.is_dir() else regular_files(root, recursive)
    scan = DicomScan(root=root)
    headers: dict[str, list[SliceHeader]] = defaultdict(list)
    for step, file in enumerate(files):
        check_cancel(cancel)
        if progress is not None and step % 32 == 0:
            progress(step, len(files), f"Reading DICOM headers ({step}/{len(files)})")
        result = read_file_headers(file)
        if isinstance(result, str):
            scan.skipped.append((file, result))
        else:
            headers[result[0].series_uid].extend(result)
    scan.headers = dict(headers)
    scan.series = sorted((_series_info(v) for v in headers.values()),
                         key=lambda s: (s.series_number is None, s.series_number or 0, -s.num_slices))
    if progress is not None:
        progress(len(files), len(files), f"Found {len(scan.series)} series")
    return scan


def _series_info(headers: list[SliceHeader]) -> SeriesInfo:
    first = headers[0]
    files = len({h.path for h in headers})
    multi_frame = any(h.frames > 1 for h in headers)
    return SeriesInfo(uid=first.series_uid, description=first.description, modality=first.modality,
                      num_files=files, rows=first.rows, cols=first.cols, series_number=first.series_number,
                      study_uid=first.study_uid, folder=first.path.parent, patient=first.patient,
                      num_frames=len(headers) if multi_frame else None)
