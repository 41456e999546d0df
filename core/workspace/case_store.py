"""One case folder on disk: saved Labelme slices, the case record, drafts of unsaved slices, crash recovery.

Layout of a case folder (docs/decisions/030-workspace-layout.md, 143):
  case.json                      CaseRecord: source, shape, statuses, confidences, last slice, window, layout
  annotations/<NNNN>.json        Labelme JSON (+ .png beside it), written by core.io.slice_export
  autosave/<NNNN>.npz            the draft of one unsaved slice (mask, edited flags, source, status)
NNNN is the slice number a user sees (core.io.slice_export.slice_stem): the 64th slice is 0064. A folder
written with 0-based names (layout 1) is renamed once when it is opened (core.workspace.slice_numbering).

This is persistence only: what is unsaved, what waits for a draft and what the user sees live in
core.workspace.open_case.OpenCase. `load` reads saved JSON first and lays the drafts over it, so a
killed app loses at most the changes since the last draft. `write_slices` may run in a worker thread
on copies of the slices; a failed write raises SaveError.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from core.annotation.slice_annotation import SliceAnnotation
from core.annotation.slice_status import SliceStatus
from core.errors import Cancelled, InputError, LabelFileError, MandibleStudioError
from core.io.atomic import atomic_write_text
from core.io.slice_export import export_slice, export_window, read_slice_mask, slice_index_of, slice_stem
from core.volume import Volume
from core.windowing import DEFAULT_PRESET, WINDOW_PRESETS, Window
from core.workspace.autosave import read_autosave, write_autosave
from core.workspace.case_record import CaseRecord
from core.workspace.slice_numbering import migrate_slice_numbers

log = logging.getLogger(__name__)

CASE_FILE = "case.json"
Progress = Callable[[int, int, str], None]


class SaveError(MandibleStudioError):
    """A save or draft could not be written."""


@dataclass
class SaveResult:
    saved: list[int] = field(default_factory=list)  # slices written as Labelme JSON + PNG
    removed: list[int] = field(default_factory=list)  # slices whose files were deleted (annotation erased)


@dataclass(frozen=True)
class SliceToSave:
    """A copy of one slice to write (made in the thread that edits it)."""

    index: int
    annotation: SliceAnnotation
    status: SliceStatus


@dataclass
class CaseContent:
    """What a case folder holds: every annotated slice, its status, the model's confidences, the drafts."""

    annotations: dict[int, SliceAnnotation] = field(default_factory=dict)
    statuses: dict[int, SliceStatus] = field(default_factory=dict)
    confidences: dict[int, float] = field(default_factory=dict)
    drafts: set[int] = field(default_factory=set)  # slices restored from a draft: not saved as Labelme JSON
    warnings: list[str] = field(default_factory=list)
    record_changed: bool = False  # a status had to be corrected while loading


class CaseStore:
    """Read and write one case folder. Create through Workspace.add_case / Workspace.case."""

    def __init__(self, case_dir: str | Path):
        self.case_dir = Path(case_dir)
        path = self.case_dir / CASE_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {path} ({exc}); is this a Mandible Studio case folder?") from exc
        self.record = CaseRecord.from_json(text, path)
        self._lock = threading.RLock()
        try:
            migrate_slice_numbers(self.case_dir, self.record, self.write_record)
        except OSError as exc:
            raise InputError(f"the slice files in {self.case_dir} must be renamed to slice numbers counted from 1, "
                             f"but that failed ({exc.strerror or exc}); make the workspace writable and open "
                             "the case again") from exc

    @classmethod
    def create(cls, case_dir: str | Path, record: CaseRecord) -> "CaseStore":
        """Write a new case folder for `record` and open it; raises SaveError when the folder is not writable."""
        case_dir = Path(case_dir)
        try:
            atomic_write_text(case_dir / CASE_FILE, record.to_json())
        except OSError as exc:
            raise SaveError(f"cannot create the case folder {case_dir}: {exc.strerror or exc}. "
                            f"Choose a workspace folder you can write to.") from exc
        return cls(case_dir)

    # -- paths -------------------------------------------------------------------------------
    @property
    def case_id(self) -> str:
        return self.record.case_id

    @property
    def annotations_dir(self) -> Path:
        return self.case_dir / "annotations"

    @property
    def autosave_dir(self) -> Path:
        return self.case_dir / "autosave"

    def annotation_path(self, index: int) -> Path:
        """The slice's saved Labelme JSON (it may not exist yet); its PNG has the same stem."""
        return self.annotations_dir / f"{slice_stem(index)}.json"

    def autosave_path(self, index: int) -> Path:
        return self.autosave_dir / f"{slice_stem(index)}.npz"

    @property
    def statuses(self) -> dict[int, SliceStatus]:
        """Status of every slice that is not EMPTY, as case.json records it."""
        return dict(self.record.statuses)

    # -- the case record ----------------------------------------------------------------------
    def write_record(self, record: CaseRecord) -> None:
        """Write case.json atomically (any thread); raises SaveError on a disk error."""
        with self._lock:
            record = dataclasses.replace(record)
            record.touch()
            try:
                atomic_write_text(self.case_dir / CASE_FILE, record.to_json())
            except OSError as exc:
                raise SaveError(disk_write_message(self.case_dir / CASE_FILE, exc)) from exc
            self.record = record

    def relocate(self, source: str | Path) -> None:
        """Remember a new location of the CT (the same series opened from another folder)."""
        resolved = str(Path(source).resolve())
        if resolved != self.record.source:
            self.write_record(dataclasses.replace(self.record, source=resolved))

    # -- drafts --------------------------------------------------------------------------------
    def write_draft(self, index: int, annotation: SliceAnnotation, status: SliceStatus) -> None:
        """Snapshot one unsaved slice atomically; raises SaveError on a disk error."""
        self._check_index(index)
        try:
            write_autosave(self.autosave_path(index), annotation, status)
        except OSError as exc:
            raise SaveError(disk_write_message(self.autosave_path(index), exc)) from exc

    def remove_draft(self, index: int) -> None:
        try:
            self.autosave_path(index).unlink(missing_ok=True)
        except OSError as exc:  # the save itself succeeded; a stale draft only repeats it
            log.warning("could not remove the draft %s: %s", self.autosave_path(index), exc)

    # -- loading -----------------------------------------------------------------------------
    def load(self, volume_shape: tuple[int, int, int] | None = None) -> CaseContent:
        """Every slice with an annotation: saved Labelme JSON, then the drafts over it.

        Files that cannot be read are skipped and described in `warnings`. A status with no
        annotation behind it is reset to EMPTY.
        """
        rec = self.record
        shape = (rec.num_slices, rec.height, rec.width)
        if volume_shape is not None and tuple(volume_shape) != shape:
            raise InputError(f"this case was annotated on a {shape} volume but the CT now loads as "
                             f"{tuple(volume_shape)}; open the same series the case was made from")
        content = CaseContent(statuses=dict(rec.statuses), confidences=dict(rec.confidences))
        self._load_saved(content)
        for index in self.draft_indexes():
            restored = read_autosave(self.autosave_path(index), (rec.height, rec.width))
            if restored is None:
                content.warnings.append(f"the draft of slice {index + 1} could not be read; "
                                        "using the saved version")
                continue
            content.annotations[index], status = restored
            _set(content, index, status)
            content.drafts.add(index)
        for index in [i for i in content.statuses if i not in content.annotations]:
            log.info("slice %d has status %s but no annotation; reset to empty", index + 1, content.statuses[index])
            _set(content, index, SliceStatus.EMPTY)
        return content

    def _load_saved(self, content: CaseContent) -> None:
        rec = self.record
        for path in sorted(self.annotations_dir.glob("*.json")):
            index = slice_index_of(path.name)
            if index is None:
                continue
            if index >= rec.num_slices:
                content.warnings.append(f"{path.name} is beyond the case's {rec.num_slices} slices; ignored")
                continue
            try:
                mask, _ = read_slice_mask(path, rec.height, rec.width)
            except LabelFileError as exc:
                content.warnings.append(str(exc))
                continue
            status = content.statuses.get(index, SliceStatus.EMPTY)
            if status is SliceStatus.EMPTY:  # a file without a status was made by a human (here or in Labelme)
                status = SliceStatus.EDITED
                _set(content, index, status)
            human = status.is_training_data
            source = SliceStatus.EDITED if human else (status if status.is_carried else SliceStatus.PREDICTED)
            content.annotations[index] = SliceAnnotation(rec.height, rec.width, mask, mask.astype(bool) & human,
                                                         source)

    def draft_indexes(self) -> list[int]:
        """Slices that have a draft on disk (0-based)."""
        indexes = (slice_index_of(p.name) for p in self.autosave_dir.glob("*.npz"))
        return sorted(i for i in indexes if i is not None and i < self.record.num_slices)

    # -- saving ------------------------------------------------------------------------------
    def write_slices(self, volume: Volume, slices: Sequence[SliceToSave], record: CaseRecord,
                     window: Window | None = None, progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> SaveResult:
        """Write Labelme JSON + PNG for `slices`, then `record` as case.json.

        An empty slice whose status is EMPTY has its files removed. On a disk error (read-only
        folder, disk full) raises SaveError naming the folder; `cancel` raises Cancelled.
        """
        self._check_volume(volume)
        window = export_window(volume, window or WINDOW_PRESETS[DEFAULT_PRESET])
        result = SaveResult()
        for step, item in enumerate(slices):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"save cancelled after {step} of {len(slices)} slices; the rest stay unsaved")
            try:
                self._write_slice(volume, item, window, result)
            except (OSError, LabelFileError) as exc:
                raise SaveError(_save_failure(self.annotations_dir, item.index, exc)) from exc
            if progress is not None:
                progress(step + 1, len(slices), f"saved slice {item.index + 1}")
        self.write_record(record)
        return result

    def _write_slice(self, volume: Volume, item: SliceToSave, window: Window, result: SaveResult) -> None:
        self._check_index(item.index)
        if item.annotation.is_empty and item.status is SliceStatus.EMPTY:
            json_path = self.annotation_path(item.index)
            if json_path.exists():
                json_path.unlink()
                json_path.with_suffix(".png").unlink(missing_ok=True)
            result.removed.append(item.index)
            return
        export_slice(self.annotations_dir, item.index, volume, item.annotation.mask, window)
        result.saved.append(item.index)

    def training_slices(self) -> list[int]:
        """Saved slices that are EDITED or REVIEWED: the only ones that count as training data."""
        return sorted(i for i, s in self.record.statuses.items()
                      if s.is_training_data and self.annotation_path(i).exists())

    # -- checks ------------------------------------------------------------------------------
    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.record.num_slices:
            raise IndexError(f"slice {index} is outside 0..{self.record.num_slices - 1}")

    def _check_volume(self, volume: Volume) -> None:
        shape = (self.record.num_slices, self.record.height, self.record.width)
        if volume.shape != shape:
            raise InputError(f"the CT is {volume.shape} but case {self.case_id} is {shape}; "
                             f"save with the CT this case was opened from")


def put_status(statuses: dict[int, SliceStatus], index: int, status: SliceStatus) -> bool:
    """Record a slice's status the way case.json keeps them (EMPTY slices are left out); True if it changed."""
    if statuses.get(index, SliceStatus.EMPTY) is status:
        return False
    if status is SliceStatus.EMPTY:
        del statuses[index]
    else:
        statuses[index] = status
    return True


def _set(content: CaseContent, index: int, status: SliceStatus) -> None:
    if put_status(content.statuses, index, status):
        content.record_changed = True


def disk_write_message(path: Path, exc: OSError) -> str:
    return (f"cannot write {path}: {exc.strerror or exc}. Free some disk space or choose a workspace "
            f"folder you can write to; your edits are kept in memory and still unsaved.")


def _save_failure(folder: Path, index: int, exc: Exception) -> str:
    cause = exc.__cause__ if isinstance(exc, LabelFileError) and isinstance(exc.__cause__, OSError) else exc
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return (f"could not save slice {index + 1} to {folder}: {reason}. Free some disk space or choose a "
            f"workspace folder you can write to; unsaved slices stay marked unsaved and your edits are kept.")
