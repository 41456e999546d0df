"""A case's saved slices as a Labelme dataset: `<NNNN>.json` beside `<NNNN>.png`, copied byte for byte from the
workspace (every shape, label, flag and key the files hold stays), into the case's own export folder.

    folder = case_folder(chosen, store.case_id, store.record.display_name)
    written = export_labelme_dataset(store, folder, replace=True)

The slices are those saved as Labelme JSON whose status is one of `include` (by default the one default of both
doors, DEFAULT_EXPORT_STATUSES). Nothing is replaced unless `replace` says so (the GUI asks first, the command
line needs --replace). The copies are written as temporaries first and put in place only once all are written,
then the slice files of an earlier export that are no longer saved are removed: a cancel or a full disk leaves
the earlier export as it was, and the folder never mixes two exports (docs/decisions/192).
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.annotation.label_volume import DEFAULT_EXPORT_STATUSES
from core.annotation.slice_status import SliceStatus
from core.errors import Cancelled, ExportError
from core.export.case_folder import CaseFolder
from core.io.atomic import TEMP_PREFIX
from core.io.files import output_error_message
from core.io.slice_export import slice_index_of, slice_stem
from core.workspace.case_store import CaseStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DatasetWritten:
    folder: Path
    slices: tuple[int, ...]  # 0-based indexes, in order
    removed: tuple[str, ...]  # slice files of an earlier export that are no longer saved


def saved_slices(store: CaseStore, include: Collection[SliceStatus] = DEFAULT_EXPORT_STATUSES) -> list[int]:
    """The slices of the case saved as Labelme JSON whose recorded status is in `include`, in order."""
    statuses = store.statuses
    indexes = (slice_index_of(p.name) for p in store.annotations_dir.glob("*.json"))
    return sorted(i for i in indexes
                  if i is not None and i < store.record.num_slices and statuses.get(i) in set(include))


def dataset_files(indexes: Sequence[int]) -> list[str]:
    """The file names a dataset of `indexes` consists of."""
    return [f"{slice_stem(i)}{suffix}" for i in indexes for suffix in (".json", ".png")]


def earlier_export(folder: CaseFolder) -> list[Path]:
    """The slice files already in the case's folder (an earlier export): a new export replaces them all."""
    if not folder.path.is_dir():
        return []
    return sorted(p for p in folder.path.iterdir() if p.is_file() and slice_index_of(p.name) is not None)


def export_labelme_dataset(store: CaseStore, folder: CaseFolder, include: Collection[SliceStatus] =
                           DEFAULT_EXPORT_STATUSES, replace: bool = False, progress: Progress | None = None,
                           cancel: threading.Event | None = None) -> DatasetWritten:
    """Copy the saved slices of `store` into `folder`. Raises ExportError (nothing saved, an earlier export there
    and `replace` not given, a missing image, a disk error) or Cancelled; either way the folder is as before."""
    indexes = saved_slices(store, include)
    if not indexes:
        raise ExportError("no slice of this case is saved yet; save your corrections (Ctrl+S) first")
    earlier = earlier_export(folder)
    if earlier and not replace:
        raise ExportError(f"{folder.path} already holds an export of this case ({len(earlier)} slice files); "
                          "replace it (--replace on the command line) or choose another folder")
    sources = [store.annotations_dir / name for name in dataset_files(indexes)]
    missing = [p for p in sources if not p.is_file()]
    if missing:
        raise ExportError(f"{missing[0]} is missing from the workspace; save the case again (Ctrl+S) and export "
                          "again")
    try:
        folder.claim()
        staged = _stage(sources, folder.path, progress, cancel)
        for temporary, source in zip(staged, sources):
            os.replace(temporary, folder.path / source.name)
    except OSError as exc:
        raise ExportError(output_error_message(Path(exc.filename or folder.path), exc)) from exc
    kept = {source.name for source in sources}
    removed = tuple(p.name for p in earlier if p.name not in kept)
    for name in removed:
        (folder.path / name).unlink(missing_ok=True)
    log.info("exported %d slices of %s to %s", len(indexes), store.case_id, folder.path)
    return DatasetWritten(folder.path, tuple(indexes), removed)


def _stage(sources: list[Path], target: Path, progress: Progress | None, cancel: threading.Event | None) -> list[Path]:
    """Copy each source to a temporary in `target`; all of them, or none (Cancelled and errors remove them)."""
    staged: list[Path] = []
    try:
        for step, source in enumerate(sources):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"export cancelled after {step // 2} of {len(sources) // 2} slices; nothing was "
                                "replaced")
            temporary = target / f"{TEMP_PREFIX}{source.name}"
            staged.append(temporary)
            shutil.copyfile(source, temporary)
            with open(temporary, "rb+") as fh:
                os.fsync(fh.fileno())
            if progress is not None and step % 2:
                progress(step // 2 + 1, len(sources) // 2, f"slice {slice_index_of(source.name) + 1}")
    except BaseException:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
        raise
    return staged
