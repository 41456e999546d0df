"""Atomic file writes: write a temporary file beside the target, fsync, then os.replace.

A crash or a full disk never leaves a half-written file in place of a good one. A process killed
mid-write leaves its temporary behind (named TEMP_PREFIX...); `remove_stale_temporaries` clears
them when a workspace opens.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

TEMP_PREFIX = ".mstmp-"
# Ours: ".mstmp-<stem>.<8 random>.<suffix>"; before TEMP_PREFIX existed: ".<stem>.<8 random>.<suffix>".
_TEMP_NAME = re.compile(r"^(\.mstmp-.*|\..+\.[a-z0-9_]{8}\.(json|png|npz|nii|nii\.gz|stl|ply|obj|dcm|tmp))$")
STALE_AFTER_S = 300.0


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces the target.

    Use it for writers that want a file name (nibabel.save, pydicom save_as, trimesh export):
    the temporary name keeps the target's suffix so format detection still works.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.stem[:32]}.", suffix=_temp_suffix(target),
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the file the permissions a plain open() would (0666 & ~umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def _temp_suffix(target: Path) -> str:
    """The target's suffix (".nii.gz" whole), so writers still see the format; short, so the name fits."""
    suffix = ".nii.gz" if target.name.lower().endswith(".nii.gz") else target.suffix
    return suffix if 0 < len(suffix) <= 16 else ".tmp"


def remove_stale_temporaries(folder: str | os.PathLike, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the temporaries of writes that never finished (a killed save) under `folder`; return them.

    Only names of our own pattern older than `older_than_s` go, so a write in progress is left alone.
    """
    removed = []
    limit = time.time() - older_than_s
    for current, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(current, name)
            try:
                if _TEMP_NAME.match(name) and path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError as exc:
                log.warning("could not remove the stale temporary %s: %s", path, exc)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted save in %s", len(removed), folder)
    return removed
