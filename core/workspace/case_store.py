"""One case on disk: saved Labelme slices, per-slice status, autosave snapshots and crash recovery.

Layout of a case folder (docs/decisions/030-workspace-layout.md):
  case.json                      CaseRecord: source, shape, statuses, last slice, window
  annotations/<index:04d>.json   Labelme JSON (+ .png beside it), written by core.io.slice_export
  autosave/<index:04d>.npz       unsaved edits of one slice (mask, edited flags, source, status)

A slice is "dirty" (unsaved) from its first edit until a save writes it; its autosave snapshot
lives exactly as long. On opening, saved JSON is read first and autosave snapshots are laid
over it, so a killed app loses at most the edits since the last autosave. A failed save raises
SaveError and leaves every slice it did not write dirty, its snapshot in place.

Thread use: `save` may run in a worker thread while the GUI keeps editing (pass snapshots made
with SliceAnnotation.copy()); a slice edited again during the save stays dirty.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from core.annotation.slice_annotation import SliceAnnotation
from core.errors import Cancelled, InputError, LabelFileError, MandibleStudioError
from core.io.atomic import atomic_write_text
from core.io.slice_export import export_slice, export_window, read_slice_mask, slice_stem
from core.volume import Volume
from core.windowing import DEFAULT_PRESET, WINDOW_PRESETS, Window
from core.workspace.autosave import read_autosave, write_autosave
from core.workspace.case_record import CaseRecord
from core.annotation.slice_status import SliceStatus

log = logging.getLogger(__name__)

CASE_FILE = "case.json"
Progress = Callable[[int, int, str], None]


class SaveError(MandibleStudioError):
    """A save or autosave could not be written. `saved` lists the slices that were written before it failed."""

    def __init__(self, message: str, saved: list[int] | None = None):
        super().__init__(message)
        self.saved = list(saved or [])


@dataclass
class SaveResult:
    saved: list[int] = field(default_factory=list)  # slices written as Labelme JSON + PNG
    removed: list[int] = field(default_factory=list)  # slices whose files were deleted (annotation erased)
    skipped: list[int] = field(default_factory=list)  # asked for but not in `annotations`: left unsaved


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
        self._dirty: set[int] = {i for i in self._autosave_indexes()}
        self._revision: dict[int, int] = {}
        self._record_changed = False
        self.load_warnings: list[str] = []

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

    # -- status, last slice, window -----------------------------------------------------------
    @property
    def statuses(self) -> dict[int, SliceStatus]:
        """Status of every slice that is not EMPTY."""
        return dict(self.record.statuses)

    def status(self, index: int) -> SliceStatus:
        return self.record.status(index)

    def set_status(self, index: int, status: SliceStatus) -> None:
        """Change a slice's status in memory; flush(), autosave() or save() write it."""
        self._check_index(index)
        with self._lock:
            if status is SliceStatus.EMPTY:
                self.record.statuses.pop(index, None)
            else:
                self.record.statuses[index] = SliceStatus(status)
            self._record_changed = True

    @property
    def last_slice(self) -> int:
        return self.record.last_slice

    @last_slice.setter
    def last_slice(self, index: int) -> None:
        self._check_index(index)
        if index != self.record.last_slice:
            self.record.last_slice = int(index)
            self._record_changed = True

    @property
    def window(self) -> Window | None:
        return Window(*self.record.window) if self.record.window else None

    @window.setter
    def window(self, window: Window) -> None:
        self.record.window = (float(window.center), float(window.width))
        self._record_changed = True

    def relocate(self, source: str | Path) -> None:
        """Remember a new location of the CT (the same series opened from another folder); flush() writes it."""
        resolved = str(Path(source).resolve())
        with self._lock:
            if resolved != self.record.source:
                self.record.source = resolved
                self._record_changed = True

    def flush(self) -> None:
        """Write case.json if the status, last slice or window changed; raises SaveError on a disk error."""
        with self._lock:
            if not self._record_changed:
                return
            self.record.touch()
            try:
                atomic_write_text(self.case_dir / CASE_FILE, self.record.to_json())
            except OSError as exc:
                raise SaveError(disk_write_message(self.case_dir / CASE_FILE, exc)) from exc
            self._record_changed = False

    # -- dirty tracking and autosave ----------------------------------------------------------
    def mark_dirty(self, index: int) -> None:
        """Note that a slice changed since its last save (every edit, undo or prediction)."""
        self._check_index(index)
        with self._lock:
            self._dirty.add(index)
            self._revision[index] = self._revision.get(index, 0) + 1

    def dirty_indexes(self) -> list[int]:
        """Slices with changes not yet saved as Labelme JSON."""
        with self._lock:
            return sorted(self._dirty)

    def is_dirty(self, index: int) -> bool:
        with self._lock:
            return index in self._dirty

    def autosave(self, index: int, annotation: SliceAnnotation, status: SliceStatus | None = None) -> None:
        """Snapshot one unsaved slice atomically (and its status); raises SaveError on a disk error."""
        if status is not None:
            self.set_status(index, status)
        self.mark_dirty(index)
        try:
            write_autosave(self.autosave_path(index), annotation, self.status(index))
        except OSError as exc:
            raise SaveError(disk_write_message(self.autosave_path(index), exc)) from exc
        self.flush()

    # -- loading -----------------------------------------------------------------------------
    def load_annotations(self, volume_shape: tuple[int, int, int] | None = None) -> dict[int, SliceAnnotation]:
        """Every slice with an annotation: saved Labelme JSON, then newer autosave snapshots over it.

        Files that cannot be read are skipped and described in `load_warnings`. A status that has
        no annotation behind it (a prediction never saved) is reset to EMPTY.
        """
        rec = self.record
        shape = (rec.num_slices, rec.height, rec.width)
        if volume_shape is not None and tuple(volume_shape) != shape:
            raise InputError(f"this case was annotated on a {shape} volume but the CT now loads as "
                             f"{tuple(volume_shape)}; open the same series the case was made from")
        annotations = self._load_saved()
        for index in self._autosave_indexes():
            restored = read_autosave(self.autosave_path(index), (rec.height, rec.width))
            if restored is None:
                self.load_warnings.append(f"autosave of slice {index + 1} could not be read; using the saved version")
                continue
            annotations[index], status = restored
            self.set_status(index, status)
        for index in [i for i in rec.statuses if i not in annotations]:
            log.info("slice %d has status %s but no annotation; reset to empty", index, rec.statuses[index].value)
            self.set_status(index, SliceStatus.EMPTY)
        return annotations

    def _load_saved(self) -> dict[int, SliceAnnotation]:
        rec = self.record
        annotations: dict[int, SliceAnnotation] = {}
        for path in sorted(self.annotations_dir.glob("[0-9][0-9][0-9][0-9].json")):
            index = int(path.stem)
            if index >= rec.num_slices:
                self.load_warnings.append(f"{path.name} is beyond the case's {rec.num_slices} slices; ignored")
                continue
            try:
                mask, _ = read_slice_mask(path, rec.height, rec.width)
            except LabelFileError as exc:
                self.load_warnings.append(str(exc))
                continue
            status = rec.status(index)
            if status is SliceStatus.EMPTY:  # a file without a status was made by a human (here or in Labelme)
                status = SliceStatus.EDITED
                self.set_status(index, status)
            human = status.is_training_data
            source = SliceStatus.EDITED if human else SliceStatus.PREDICTED
            annotations[index] = SliceAnnotation(rec.height, rec.width, mask, mask.astype(bool) & human, source)
        return annotations

    def _autosave_indexes(self) -> list[int]:
        return sorted(int(p.stem) for p in self.autosave_dir.glob("[0-9][0-9][0-9][0-9].npz")
                      if int(p.stem) < self.record.num_slices)

    # -- saving ------------------------------------------------------------------------------
    def save(self, volume: Volume, annotations: Mapping[int, SliceAnnotation], indexes: list[int] | None = None,
             window: Window | None = None, progress: Progress | None = None,
             cancel: threading.Event | None = None) -> SaveResult:
        """Write Labelme JSON + PNG for `indexes` (default: every dirty slice) and case.json.

        An empty annotation with status EMPTY has its files removed; an index missing from
        `annotations` is skipped and stays dirty. Saved slices stop being dirty and lose their
        autosave snapshot. On a disk error (read-only folder, disk full) raises SaveError naming
        the folder; slices not yet written stay dirty.
        """
        self._check_volume(volume)
        todo = self.dirty_indexes() if indexes is None else sorted(set(indexes))
        window = export_window(volume, window or self.window or WINDOW_PRESETS[DEFAULT_PRESET])
        result = SaveResult()
        for step, index in enumerate(todo):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"save cancelled after {step} of {len(todo)} slices; the rest stay unsaved")
            if index not in annotations:
                result.skipped.append(index)
                continue
            with self._lock:
                revision = self._revision.get(index, 0)
            try:
                self._save_slice(volume, index, annotations[index], window, result)
            except (OSError, LabelFileError) as exc:
                raise SaveError(_save_failure(self.annotations_dir, index, exc), result.saved) from exc
            self._mark_saved(index, revision)
            if progress is not None:
                progress(step + 1, len(todo), f"saved slice {index + 1}")
        try:
            self._record_changed = True
            self.flush()
        except SaveError as exc:
            raise SaveError(str(exc), result.saved) from exc
        return result

    def _save_slice(self, volume: Volume, index: int, annotation: SliceAnnotation,
                    window: Window, result: SaveResult) -> None:
        self._check_index(index)
        if annotation.is_empty and self.status(index) is SliceStatus.EMPTY:
            json_path = self.annotation_path(index)
            if json_path.exists():
                json_path.unlink()
                json_path.with_suffix(".png").unlink(missing_ok=True)
                result.removed.append(index)
            self.set_status(index, SliceStatus.EMPTY)
            return
        if self.status(index) is SliceStatus.EMPTY:
            self.set_status(index, annotation.source)
        export_slice(self.annotations_dir, index, volume, annotation.mask, window)
        result.saved.append(index)

    def _mark_saved(self, index: int, revision: int) -> None:
        """Clear the dirty mark unless the slice was edited again while it was being saved."""
        with self._lock:
            if self._revision.get(index, 0) != revision:
                return
            self._dirty.discard(index)
        try:
            self.autosave_path(index).unlink(missing_ok=True)
        except OSError as exc:  # the save itself succeeded; a stale snapshot only repeats it
            log.warning("could not remove autosave %s: %s", self.autosave_path(index), exc)

    # -- labels and training data -------------------------------------------------------------
    def import_labels(self, labels: np.ndarray) -> dict[int, SliceAnnotation]:
        """Human labels for the whole volume (e.g. a NIfTI label map) as annotations of the slices they cover.

        Imported labels count as human work: each slice with label pixels becomes EDITED (training
        data) and dirty; slices without label pixels are left as they are. Save to write them.
        """
        rec = self.record
        labels = np.asarray(labels)
        if labels.shape != (rec.num_slices, rec.height, rec.width):
            raise InputError(f"the label volume is {labels.shape} but the CT is "
                             f"{(rec.num_slices, rec.height, rec.width)}; choose the labels of this scan")
        imported: dict[int, SliceAnnotation] = {}
        for index in np.flatnonzero(labels.reshape(rec.num_slices, -1).any(axis=1)):
            mask = labels[index] != 0
            imported[int(index)] = SliceAnnotation(rec.height, rec.width, mask, mask, SliceStatus.EDITED)
            self.set_status(int(index), SliceStatus.EDITED)
            self.mark_dirty(int(index))
        return imported

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


def disk_write_message(path: Path, exc: OSError) -> str:
    return (f"cannot write {path}: {exc.strerror or exc}. Free some disk space or choose a workspace "
            f"folder you can write to; your edits are kept in memory and still unsaved.")


def _save_failure(folder: Path, index: int, exc: Exception) -> str:
    cause = exc.__cause__ if isinstance(exc, LabelFileError) and isinstance(exc.__cause__, OSError) else exc
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return (f"could not save slice {index + 1} to {folder}: {reason}. Free some disk space or choose a "
            f"workspace folder you can write to; unsaved slices stay marked unsaved and your edits are kept.")
