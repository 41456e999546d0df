"""Crash-recovery snapshots of one slice: <index:04d>.npz with the mask, edited flags, source and status.

Written atomically (temporary file, then os.replace), so a kill during an autosave leaves the
previous snapshot. A snapshot that cannot be read (foreign or truncated file) is skipped with a
warning rather than stopping the case from opening.
"""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import numpy as np

from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.io.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

# Snapshots written before the source became a SliceStatus spelled "no annotation" as "none".
LEGACY_EMPTY_SOURCE = "none"


def write_autosave(path: Path, annotation: SliceAnnotation, status: SliceStatus) -> None:
    """Snapshot one slice atomically (a few milliseconds for 512x512)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, mask=np.packbits(annotation.mask.astype(bool)),
                        edited=np.packbits(annotation.edited), shape=np.array(annotation.shape),
                        source=np.array(annotation.source.value), status=np.array(status.value))
    atomic_write_bytes(path, buffer.getvalue())


def read_autosave(path: Path, shape: tuple[int, int]) -> tuple[SliceAnnotation, SliceStatus] | None:
    """The snapshot's annotation and status, or None (logged) when the file is unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = tuple(int(v) for v in data["shape"])
            if stored != tuple(shape):
                raise ValueError(f"slice size {stored} does not match the case's {tuple(shape)}")
            count = stored[0] * stored[1]
            mask = np.unpackbits(data["mask"], count=count).reshape(stored)
            edited = np.unpackbits(data["edited"], count=count).reshape(stored).astype(bool)
            source_name = str(data["source"])
            source = SliceStatus.EMPTY if source_name == LEGACY_EMPTY_SOURCE else SliceStatus(source_name)
            status = SliceStatus(str(data["status"]))
        annotation = SliceAnnotation(shape[0], shape[1], mask, edited, source)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable autosave %s: %s", path, exc)
        return None
    return annotation, status
