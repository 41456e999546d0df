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
from typing import Callable

import cv2
import numpy as np
import pydicom
from pydicom.pixels import get_decoder
from pydicom.uid import ImplicitVRLittleEndian

from core.errors import Cancelled
from core.io.dicom_scan import NATIVE_SYNTAXES, UNKNOWN_OFFSET, SliceHeader
from core.windowing import WINDOW_PRESETS, hu_to_display

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None] | None

_DECODE_THREADS = max(1, min(4, os.cpu_count() or 1))
THUMBNAIL_SIZE = 96
# Slope and intercept small enough that int64 arithmetic on 16-bit values can never overflow.
_EXACT_SLOPE, _EXACT_INTERCEPT = 2**15, 2**20


def decode_slice(header: SliceHeader) -> np.ndarray:
    """The stored pixel values of one slice as a 2-D array (no rescale)."""
    native = (header.transfer_syntax in NATIVE_SYNTAXES and header.samples == 1
              and header.bits_allocated in (8, 16) and (not header.signed or header.bits_stored == header.bits_allocated))
    if not native:
        return _decode_by_pydicom(header)
    dtype = np.dtype(f"<{'i' if header.signed else 'u'}{header.bits_allocated // 8}")
    with open(header.path, "rb") as fp:
        fp.seek(header.pixel_offset + _element_header_bytes(header))
        data = fp.read(header.native_bytes)
    if len(data) != header.native_bytes:
        raise ValueError("truncated pixel data")
    return np.frombuffer(data, dtype).reshape(header.rows, header.cols)


def _element_header_bytes(header: SliceHeader) -> int:
    """Bytes before the PixelData value: tag + length (implicit VR), tag + VR + reserved + length (explicit)."""
    return 8 if header.transfer_syntax == ImplicitVRLittleEndian else 12


def _decode_by_pydicom(header: SliceHeader) -> np.ndarray:
    """Decode with pydicom's decoders (RLE, JPEG, JPEG-LS, JPEG 2000 via pylibjpeg) from the scan's
    offset, without parsing the header again; pydicom's full read is the fallback for anything unusual."""
    arr = None
    if header.pixel_offset != UNKNOWN_OFFSET and header.transfer_syntax != pydicom.uid.ExplicitVRBigEndian:
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
    if arr is None:
        ds = pydicom.dcmread(header.path)
        if "PixelData" not in ds:
            raise ValueError("the file has no pixel data")
        arr = ds.pixel_array
    if arr.ndim != 2:
        raise ValueError(f"pixel data has shape {arr.shape}; one grayscale frame was expected")
    return arr


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


def decode_all(headers: list[SliceHeader], progress: Progress,
               cancel: threading.Event | None) -> tuple[np.ndarray, list[int], list[str]]:
    """Decode and rescale every slice into one volume, in the order of `headers`, as each is decoded: a slice's
    stored values are dropped once rescaled, so the series is never held twice (issue 22).

    Returns (volume [len(headers), rows, cols], int16 where the rescale is exact else float32; the indexes of the
    slices decoded; warnings for the files that failed). The rows of failed slices are left unset."""
    out = np.empty((len(headers), headers[0].rows, headers[0].cols),
                   np.int16 if exact_rescale(headers) else np.float32)
    decoded: list[int] = []
    warnings: list[str] = []
    # Threads help reading uncompressed files; pydicom's decoders hold the GIL and get slower with them.
    native = all(h.transfer_syntax in NATIVE_SYNTAXES for h in headers)
    workers = _DECODE_THREADS if native else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # A few slices decode ahead of the one being rescaled, never the whole series.
        pending = deque(pool.submit(decode_slice, h) for h in headers[:2 * workers])
        for i, header in enumerate(headers):
            if cancel is not None and cancel.is_set():
                for future in pending:
                    future.cancel()
                raise Cancelled("Loading was cancelled.")
            future = pending.popleft()
            if i + len(pending) + 1 < len(headers):
                pending.append(pool.submit(decode_slice, headers[i + len(pending) + 1]))
            try:
                out = rescale_into(out, i, future.result(), header)
                decoded.append(i)
            except Exception as exc:  # a damaged file must not stop the series
                warnings.append(f"{header.path.name} could not be decoded and was left out ({exc})")
            del future  # its stored values go now
            if progress is not None and i % 8 == 0:
                progress(i, len(headers), f"Decoding slice {i + 1}/{len(headers)}")
    return out, decoded, warnings


def series_thumbnail(headers: list[SliceHeader]) -> np.ndarray | None:
    """The series' middle slice (by InstanceNumber) in the bone window, uint8, at most THUMBNAIL_SIZE a side.

    None when that slice cannot be decoded: a chooser then shows the series without a picture.
    """
    ordered = sorted(headers, key=lambda h: (h.instance_number is None, h.instance_number or 0, h.path.name))
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
