"""Which entries of a folder are files we may open, and the folder an output goes to.

Only regular files are ever opened: a FIFO blocks open() until something writes to it, a device
can be endless, a socket cannot be read at all (decision 100). `stat` follows symbolic links, so
a link to a regular file counts as one.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Iterator

from core.errors import ExportError, InputError
from core.io.atomic import TEMP_PREFIX

_MAX_NAME_BYTES = 255


def is_regular_file(path: str | os.PathLike) -> bool:
    """True for a regular file (or a link to one); never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def require_regular_file(path: Path, what: str = "a file") -> None:
    """InputError unless `path` is a regular file, saying what it is instead; `what` names what to choose."""
    if is_regular_file(path):
        return
    if not os.path.lexists(path):
        raise InputError(f"{path} does not exist; check the path.")
    kind = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
    raise InputError(f"{path} is {kind}; choose {what}.")


def iter_regular_files(folder: Path, recursive: bool = False) -> Iterator[Path]:
    """Regular files under `folder` (hidden ones left out), sorted by name, folders walked in order."""
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        yield from (Path(current, n) for n in sorted(names)
                    if not n.startswith(".") and is_regular_file(Path(current, n)))


def regular_files(folder: Path, recursive: bool = False) -> list[Path]:
    return list(iter_regular_files(folder, recursive))


def check_output_place(folder: Path, option: str) -> None:
    """What can be said of an output folder without creating anything; ExportError if it cannot be one.

    A name over 255 bytes, or a path that runs through a regular file, is refused here, so a command
    can say so before it reads its inputs and leave no trace behind.
    """
    for part in folder.parts:
        if len(os.fsencode(part)) > _MAX_NAME_BYTES:
            raise ExportError(output_error_message(folder, OSError(errno.ENAMETOOLONG, "name too long"), option))
    existing = next((p for p in (folder, *folder.parents) if os.path.lexists(p)), None)
    if existing is not None and not existing.is_dir():
        raise ExportError(output_error_message(folder, NotADirectoryError(errno.ENOTDIR, "not a folder"), option))


def prepare_output_folder(folder: Path, option: str) -> Path:
    """Create `folder` and prove it can take a file, before any long work starts; ExportError if not.

    A tiny probe file is written and removed, so a read-only disk, a path under a regular file,
    a name over 255 bytes or a full disk is reported now, not after a whole prediction.
    """
    probe = folder / f"{TEMP_PREFIX}probe-{os.getpid()}"  # several processes may check one folder at once
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fp:
            fp.write(b"\0" * 4096)
            fp.flush()
            os.fsync(fp.fileno())
    except OSError as exc:
        raise ExportError(output_error_message(folder, exc, option)) from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return folder


def prepare_output_file(path: Path, option: str) -> Path:
    """prepare_output_folder for the file's folder, and a name the file system can hold; ExportError if not."""
    if len(os.fsencode(path.name)) > _MAX_NAME_BYTES:
        raise ExportError(f"cannot write {option} {path}: the file name is longer than {_MAX_NAME_BYTES} bytes; "
                          "choose a shorter name")
    if path.is_dir():
        raise ExportError(f"cannot write {option} {path}: a folder has that name; choose another file name")
    prepare_output_folder(path.parent, option)
    return path


@contextlib.contextmanager
def writing_to(folder: Path, option: str) -> Iterator[None]:
    """Turns an OSError of the writes inside into an ExportError naming `option` and what to do."""
    try:
        yield
    except OSError as exc:
        raise ExportError(output_error_message(Path(exc.filename) if exc.filename else folder, exc, option)) from exc


def output_error_message(path: Path, exc: OSError, option: str = "") -> str:
    """Plain words for a failed write: what, where, and what to do about it."""
    where = f"{option} {path}" if option else str(path)
    advice = {
        "ENOSPC": "the disk is full; free some space or choose another disk",
        "EDQUOT": "the disk quota is used up; free some space or choose another disk",
        "EFBIG": "the file is larger than this system allows; choose another disk",
        "EROFS": "the disk is read-only; choose a folder you can write to",
        "EACCES": "you may not write there; choose a folder you can write to",
        "EPERM": "you may not write there; choose a folder you can write to",
        "ENOTDIR": "part of the path is a file, not a folder; choose another folder",
        "EEXIST": "part of the path is a file, not a folder; choose another folder",
        "ENAMETOOLONG": "a name in the path is too long (over 255 characters); choose a shorter name",
        "EISDIR": "a folder has that name; choose another file name",
    }
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    code = errno.errorcode.get(exc.errno or -1, "")
    return f"cannot write {where}: {reason}; {advice.get(code, 'choose another folder')}"
