"""Case folders written before slice files were named by the number a user sees are renamed once, on opening.

Layout 1 named slice index i `<i:04d>` (0-based); layout 2 names it `slice_stem(i)` (i + 1, decision 143).
Renaming in place could collide (0063 -> 0064 while 0064 still waits), so each folder is rebuilt beside
itself and swapped in:
  1. every file is linked (or copied) under its new name into `<folder>.layout2`; a Labelme JSON is
     rewritten so that its imagePath names the renamed PNG;
  2. `<folder>` becomes `<folder>.layout1`, `<folder>.layout2` becomes `<folder>`;
  3. case.json records layout 2 (the caller's `commit`);
  4. the `.layout1` folders are deleted.
A crash before step 3 leaves layout 1 on record: the next opening puts the `.layout1` folders back and
starts over. A crash after it leaves only `.layout1` folders to delete.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Callable

from core.errors import LabelFileError
from core.io.labelme import read_label_file, write_label_file
from core.io.slice_export import slice_stem
from core.workspace.case_record import SLICE_FILE_LAYOUT, CaseRecord

log = logging.getLogger(__name__)

FOLDERS = ("annotations", "autosave")
_LAYOUT1_NAME = re.compile(r"^(\d{4,})(\.[A-Za-z0-9]+)$")


def migrate_slice_numbers(case_dir: Path, record: CaseRecord, commit: Callable[[CaseRecord], None]) -> None:
    """Bring a case folder to the current slice-file layout; `commit` writes the updated record (case.json)."""
    if record.layout >= SLICE_FILE_LAYOUT:
        _delete_old(case_dir)
        return
    for name in FOLDERS:
        _roll_back(case_dir / name)
    for name in FOLDERS:
        _rebuild(case_dir / name)
    commit(dataclasses.replace(record, layout=SLICE_FILE_LAYOUT))
    _delete_old(case_dir)
    log.info("renamed the slice files of %s to slice numbers counted from 1", case_dir)


def _old(folder: Path) -> Path:
    return folder.with_name(folder.name + ".layout1")


def _new(folder: Path) -> Path:
    return folder.with_name(folder.name + ".layout2")


def _roll_back(folder: Path) -> None:
    """Undo an interrupted earlier attempt: the original folder back in place, no half-built copy."""
    if _old(folder).is_dir():
        if folder.is_dir():
            shutil.rmtree(folder)
        os.rename(_old(folder), folder)
    if _new(folder).is_dir():
        shutil.rmtree(_new(folder))


def _rebuild(folder: Path) -> None:
    if not folder.is_dir():
        return
    rebuilt = _new(folder)
    rebuilt.mkdir()
    for path in folder.iterdir():
        match = _LAYOUT1_NAME.match(path.name)
        if not path.is_file() or match is None:
            continue  # leftover temporary files of interrupted writes are not carried over
        target = rebuilt / f"{slice_stem(int(match.group(1)))}{match.group(2)}"
        if match.group(2) == ".json" and _renamed_label_file(path, target):
            continue
        _link_or_copy(path, target)
    os.rename(folder, _old(folder))
    os.rename(rebuilt, folder)


def _renamed_label_file(path: Path, target: Path) -> bool:
    """Write the Labelme JSON at `path` to `target` with imagePath naming the renamed PNG; False if unreadable."""
    try:
        label_file = read_label_file(path)
    except LabelFileError as exc:
        log.warning("%s cannot be read (%s); it is carried over as it is", path, exc)
        return False
    image = _LAYOUT1_NAME.match(label_file.image_path or "")
    if image is not None:
        label_file = dataclasses.replace(label_file, image_path=f"{slice_stem(int(image.group(1)))}{image.group(2)}")
    write_label_file(target, label_file)
    return True


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _delete_old(case_dir: Path) -> None:
    for name in FOLDERS:
        old = _old(case_dir / name)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
