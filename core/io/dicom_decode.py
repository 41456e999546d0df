"""DICOM decode: the pixels of scanned slices, as stored values and rescaled to HU.

Uncompressed little-endian pixel data is read straight from the file at the scan's offset; RLE,
JPEG and JPEG 2000 go through pydicom's decoders and the pylibjpeg plugins from that offset; big
endian and deflated files (rare, retired transfer syntaxes) go through pydicom's full read. Sizes
were checked by the scan, so nothing here allocates more than the header was allowed to declare.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pydicom
from pydicom.pixels import get_decoder
from pydicom.uid import ImplicitVRLittleEndian

from core.errors import Cancelled, DicomSeriesError
from core.io.dicom_geometry import order_slices
from core.io.dicom_scan import NATIVE_SYNTAXES, UNKNOWN_OFFSET, SliceHeader, check_cancel
from core.windowing import WINDOW_PRESETS, hu_to_display

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None] | None

_DECODE_THREADS = max(1, min(4, os.cpu_count() or 1))
THUMBNAIL_SIZE = 96
# Slope and intercept small enough that int64 arithmetic on 16-bit values can never overflow.
_EXACT_SLOPE, _EXACT_INTERCEPT = 2**15, 2**20


def decode_slice(header: SliceHeader) -> np.ndarray:
    """The stored pixel values of one slice (or one frame of a multi-frame file) as a 2-D array (no rescale)."""
    if not _is_native(header):
        return _decode_by_pydicom(header)
    dtype = np.dtype(f"<{'i' if header.signed else 'u'}{header.bits_allocated // 8}")
    with open(header.path, "rb") as fp:
        fp.seek(header.pixel_offset + _element_header_bytes(header) + header.frame * header.native_bytes)
        data = fp.read(header.native_bytes)
    if len(data) != header.native_bytes:
        raise ValueError("truncated pixel data")
    return np.frombuffer(data, dtype).reshape(header.rows, header.cols)


def _is_native(header: SliceHeader) -> bool:
    """True when the pixels are read straight from the file (uncompressed, little endian, plain integers)."""
    return (header.transfer_syntax in NATIVE_SYNTAXES and header.samples == 1 and header.bits_allocated in (8, 16)
            and (not header.signed or header.bits_stored == header.bits_allocated))


def _element_header_bytes(header: SliceHeader) -> int:
    """Bytes before the PixelData value: tag + length (implicit VR), tag + VR + reserved + length (explicit)."""
    return 8 if header.transfer_syntax == ImplicitVRLittleEndian else 12


def _from_offset(header: SliceHeader) -> bool:
    """True when pydicom's decoders can start at the scan's pixel data offset (not deflated, not big endian)."""
    return header.pixel_offset != UNKNOWN_OFFSET and header.transfer_syntax != pydicom.uid.ExplicitVRBigEndian


def _pixel_value(header: SliceHeader) -> bytes:
    """The PixelData value and whatever follows it in the file (the decoders stop at its end)."""
    with open(header.path, "rb") as fp:
        fp.seek(header.pixel_offset + _element_header_bytes(header))
        return fp.read()


def _decode_options(header: SliceHeader) -> dict:
    return dict(rows=header.rows, columns=header.cols, samples_per_pixel=header.samples,
                bits_allocated=header.bits_allocated, bits_stored=header.bits_stored,
                pixel_representation=int(header.signed), photometric_interpretation=header.photometric,
                number_of_frames=header.frames, planar_configuration=0)


def _full_read(header: SliceHeader) -> np.ndarray:
    """Every frame through pydicom's full read: [rows, cols] for one frame, [frames, rows, cols] for more."""
    ds = pydicom.dcmread(header.path)
    if "PixelData" not in ds:
        raise ValueError("the file has no pixel data")
    return ds.pixel_array


def _one_frame(arr: np.ndarray, header: SliceHeader) -> np.ndarray:
    if header.frames > 1 and arr.ndim == 3 and arr.shape[0] == header.frames:
        arr = arr[header.frame]
    if arr.ndim != 2:
        raise ValueError(f"pixel data has shape {arr.shape}; one grayscale frame was expected")
    return arr


def _decode_by_pydicom(header: SliceHeader) -> np.ndarray:
    """Decode with pydicom's decoders (RLE, JPEG, JPEG-LS, JPEG 2000 via pylibjpeg) from the scan's
    offset, without parsing the header again; pydicom's full read is the fallback for anything unusual."""
    arr = None
    if _from_offset(header):
        try:
            arr, _ = get_decoder(header.transfer_syntax).as_array(_pixel_value(header), index=header.frame,
                                                                 **_decode_options(header))
        except Exception as exc:  # decoders raise many types; the full path may still succeed
            log.debug("fast decode of %s failed (%s); using pydicom's full read", header.path, exc)
    return _one_frame(_full_read(header) if arr is None else arr, header)


def decode_frames(header: SliceHeader, cancel: threading.Event | None = None) -> tuple[dict[int, np.ndarray], str]:
    """Every frame of `header`'s compressed multi-frame file, the file read once: ({frame: values}, what failed).

    Frames are decoded in file order; a damaged frame ends the walk, and the frames before it are kept.
    """
    decoded: dict[int, np.ndarray] = {}
    try:
        if not _from_offset(header):
            every = _full_read(header)
            return {frame: _one_frame(every, replace(header, frame=frame)) for frame in range(header.frames)}, ""
        frames = get_decoder(header.transfer_syntax).iter_array(_pixel_value(header), **_decode_options(header))
        for frame, (arr, _) in enumerate(frames):
            check_cancel(cancel)
            decoded[frame] = _one_frame(arr, replace(header, frames=1))
    except Cancelled:
        raise
    except Exception as exc:  # decoders raise many types for damaged data
        return decoded, f"{exc.__class__.__name__}: {exc}"
    return decoded, "" if len(decoded) == header.frames else f"the pixel data holds {len(decoded)} frames"


def exact_rescale(headers: list[SliceHeader]) -> bool:
    """True when slope*raw+intercept stays a whole number that int arithmetic computes exactly."""
    return all(float(h.slope).is_integer() and float(h.intercept).is_integer()
               and abs(h.slope) <= _EXACT_SLOPE and abs(h.intercept) <= _EXACT_INTERCEPT for h in headers)


def rescale_into(out: np.ndarray, index: int, raw: np.ndarray, header: SliceHeader) -> np.ndarray:
    """Write slope*raw+intercept into out[index]; returns `out`, promoted to float32 if int16 cannot hold it."""
    if out.dtype == np.int16:
        values = raw.astype(np.int64)
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


def _jobs(headers: list[SliceHeader]) -> list[list[int]]:
    """Indexes of `headers` decoded together: a compressed multi-frame file in one walk over its frames,
    anything else one slice at a time."""
    by_file: dict[Path, list[int]] = {}
    jobs: list[list[int]] = []
    for index, header in enumerate(headers):
        if header.frames == 1 or _is_native(header):
            jobs.append([index])
        elif header.path in by_file:
            by_file[header.path].append(index)
        else:
            by_file[header.path] = [index]
            jobs.append(by_file[header.path])
    return jobs


def _decode_job(headers: list[SliceHeader], job: list[int], cancel: threading.Event | None):
    """({index: raw}, a warning or "") for one job of `_jobs`."""
    first = headers[job[0]]
    if len(job) == 1 and (first.frames == 1 or _is_native(first)):
        try:
            return {job[0]: decode_slice(first)}, ""
        except Exception as exc:  # a damaged file must not stop the series
            return {}, f"{first.path.name} could not be decoded and was left out ({exc})"
    frames, problem = decode_frames(first, cancel)
    raws = {index: frames[headers[index].frame] for index in job if headers[index].frame in frames}
    if not problem:
        return raws, ""
    return raws, (f"{len(job) - len(raws)} of the {len(job)} frames of {first.path.name} could not be decoded "
                  f"and were left out ({problem})")


def decode_all(headers: list[SliceHeader], progress: Progress,
               cancel: threading.Event | None) -> tuple[np.ndarray, list[int], list[str]]:
    """Decode and rescale every slice into one volume, in the order of `headers`, as each is decoded: a slice's
    stored values are dropped once rescaled, and only a few jobs are decoded ahead, so the series is never held
    twice (issue 22).

    Returns (volume [len(headers), rows, cols], int16 where the rescale is exact else float32; the indexes of the
    slices decoded, in order; warnings for the files or frames that failed). Rows of failed slices are unset."""
    out = np.empty((len(headers), headers[0].rows, headers[0].cols),
                   np.int16 if exact_rescale(headers) else np.float32)
    decoded: list[int] = []
    warnings: list[str] = []
    jobs = _jobs(headers)
    # Threads help reading uncompressed files; pydicom's decoders hold the GIL and get slower with them.
    native = all(h.transfer_syntax in NATIVE_SYNTAXES for h in headers)
    workers = _DECODE_THREADS if native else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(pool.submit(_decode_job, headers, job, cancel) for job in jobs[:2 * workers])
        done = 0
        for number, job in enumerate(jobs):
            if cancel is not None and cancel.is_set():
                for future in pending:
                    future.cancel()
                raise Cancelled("Loading was cancelled.")
            following = number + len(pending)
            raws, warning = pending.popleft().result()
            if following < len(jobs):
                pending.append(pool.submit(_decode_job, headers, jobs[following], cancel))
            for index in sorted(raws):
                out = rescale_into(out, index, raws.pop(index), headers[index])  # its stored values go now
                decoded.append(index)
            warnings += [warning] if warning else []
            if progress is not None and (done % 8 == 0 or len(job) > 1):
                progress(done, len(headers), f"Decoding slice {done + 1}/{len(headers)}")
            done += len(job)
    return out, sorted(decoded), warnings


def series_thumbnail(headers: list[SliceHeader]) -> np.ndarray | None:
    """The series' middle slice (in space, as the viewer orders it) in the bone window, uint8, at most
    THUMBNAIL_SIZE a side. The frames of a multi-frame file may be stored in any order.

    None when that slice cannot be decoded: a chooser then shows the series without a picture.
    """
    try:
        ordered = order_slices(headers).headers
    except DicomSeriesError:  # mixed orientations: the load will say so; any slice will do for a picture
        ordered = headers
    middle = ordered[len(ordered) // 2]
    try:
        raw = decode_slice(middle)
    except Exception as exc:  # a thumbnail is a courtesy: never fail the chooser over it
        log.debug("no thumbnail for %s: %s", middle.path, exc)
        return None
    hu = raw.astype(np.float32) * np.float32(middle.slope) + np.float32(middle.intercept)
    scale = THUMBNAIL_SIZE / max(hu.shape)
    size = (max(1, round(hu.shape[1] * scale)), max(1, round(hu.shape[0] * scale)))
    small = cv2.resize(hu, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return np.ascontiguousarray(hu_to_display(small, WINDOW_PRESETS["bone"]), dtype=np.uint8)
