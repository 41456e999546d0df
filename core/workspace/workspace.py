"""A workspace: a folder of cases, the recent-cases list and the model versions.

  <root>/workspace.json         format tag, recent case ids (most recent first)
  <root>/cases/<case_id>/       one CaseStore each (case.json, annotations/, autosave/)
  <root>/models/                model versions (core/workspace/model_versions.py)
  <root>/removed/<case_id>/     cases removed from the list, kept as they were (decision 171)

Opening the same CT again (same DICOM series UID, or same file) finds its case, so annotations,
statuses and the last slice come back (docs/decisions/030-workspace-layout.md).
"""
from __future__ import annotations

import json
import logging
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.errors import InputError, MandibleStudioError
from core.io.atomic import atomic_write_text, remove_stale_temporaries
from core.io.loader import describe_input
from core.volume import Volume
from core.workspace.case_calibration import settle_calibration
from core.workspace.case_record import CaseRecord, case_id_for, case_key, checked_name, display_name_for, says_nothing
from core.workspace.case_store import CASE_FILE, CaseStore, SaveError, disk_write_message

log = logging.getLogger(__name__)

WORKSPACE_FILE = "workspace.json"
WORKSPACE_FORMAT = "mandible-studio-workspace"
MAX_RECENT = 20


@dataclass(frozen=True)
class TrainingItem:
    """One training slice: the CT it comes from and its saved Labelme annotation."""

    case_id: str
    source: Path | None
    series_uid: str | None
    index: int
    json_path: Path

    @property
    def png_path(self) -> Path:
        return self.json_path.with_suffix(".png")


class Workspace:
    """Open with Workspace.open / create / open_or_create."""

    def __init__(self, root: Path, recent: list[str]):
        self.root = root
        self._recent = recent
        self._stores: dict[str, CaseStore] = {}

    @classmethod
    def create(cls, root: str | Path) -> "Workspace":
        """Make an empty workspace in `root` (created if missing); an existing one is opened instead."""
        root = Path(root)
        if (root / WORKSPACE_FILE).exists():
            return cls.open(root)
        workspace = cls(root, [])
        workspace._write()
        (root / "cases").mkdir(exist_ok=True)
        (root / "models").mkdir(exist_ok=True)
        return workspace

    @classmethod
    def open(cls, root: str | Path) -> "Workspace":
        """Open an existing workspace; InputError when `root` holds none."""
        root = Path(root)
        path = root / WORKSPACE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != WORKSPACE_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}")
            recent = [str(case_id) for case_id in data.get("recent", [])]
        except FileNotFoundError as exc:
            raise InputError(f"{root} is not a Mandible Studio workspace (no {WORKSPACE_FILE}); "
                             f"choose another folder or create a new workspace") from exc
        except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise InputError(f"{path} cannot be read ({exc}); choose another workspace folder") from exc
        remove_stale_temporaries(root)  # left by a save that was killed
        return cls(root, recent)

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    @property
    def models_dir(self) -> Path:
        """Where the model versions live (core/workspace/model_versions.py)."""
        return self.root / "models"

    # -- cases -------------------------------------------------------------------------------
    def cases(self) -> list[CaseRecord]:
        """Every readable case, by display name; unreadable case folders are skipped with a warning."""
        records = []
        for case_dir in sorted(p for p in self.cases_dir.glob("*") if (p / CASE_FILE).exists()):
            record = self._readable_record(case_dir.name)
            if record is not None:
                records.append(record)
        return sorted(records, key=lambda r: (r.display_name.lower(), r.case_id))

    def _readable_record(self, case_id: str) -> CaseRecord | None:
        """The case's record, or None (logged) when its folder is damaged: one bad case never hides the others."""
        try:
            return self.case(case_id).record
        except (MandibleStudioError, OSError, ValueError) as exc:
            log.warning("skipping case folder %s: %s", case_id, exc)
            return None

    def case(self, case_id: str) -> CaseStore:
        """The store of one case (the same object on every call)."""
        if case_id not in self._stores:
            self._stores[case_id] = CaseStore(self.cases_dir / case_id)
        return self._stores[case_id]

    def add_case(self, volume: Volume, source_path: str | Path | None = None, kind: str | None = None) -> CaseStore:
        """The case for this CT: the existing one when it was opened before (reopening restores), else a new one.

        Also moves the case to the top of the recent list, and gives the CT its case's grey-value calibration
        in place (a correction the user stored, else the scan's own; core/workspace/case_calibration.py): load
        it with `calibration=None` for an exact one. `kind` defaults to what core.io.loader.describe_input says
        about `source_path`.
        """
        source = source_path if source_path is not None else volume.source
        existing = sorted(self.cases_dir.glob(f"*-{case_key(volume, source)}/{CASE_FILE}"))
        if existing:
            case_id = existing[0].parent.name
            store = self.case(case_id)
            self._check_same_grid(store.record, volume)
            if source is not None and Path(source).exists():
                store.relocate(source)
            self._remember_patient(store, volume)
            self._rename_if_nameless(store, volume, source)
        else:
            if kind is None:
                kind = describe_input(source) if source is not None and Path(source).exists() else "memory"
            case_id = case_id_for(volume, source)
            name, named_by = display_name_for(volume, source)
            record = CaseRecord(case_id=case_id, display_name=name, named_by=named_by,
                                source=str(Path(source).resolve()) if source is not None else None, kind=kind,
                                series_uid=volume.series_uid, num_slices=volume.shape[0],
                                height=volume.shape[1], width=volume.shape[2], patient=volume.patient)
            store = self._stores[case_id] = CaseStore.create(self.cases_dir / case_id, record)
        settle_calibration(store, volume)
        self.mark_recent(case_id)
        return store

    def rename_case(self, case_id: str, name: str) -> CaseRecord:
        """The user's own name for a case (InputError for an empty or too long one; SaveError on a disk error)."""
        store = self.case(case_id)
        store.write_record(dataclasses.replace(store.record, display_name=checked_name(name), named_by="user"))
        return store.record

    @staticmethod
    def _rename_if_nameless(store: CaseStore, volume: Volume, source) -> None:
        """A case made before cases were named after the patient and series, named after a folder like DICOM."""
        record = store.record
        if record.named_by != "source" or not says_nothing(record.display_name):
            return
        name, named_by = display_name_for(volume, source)
        try:
            store.write_record(dataclasses.replace(record, display_name=name, named_by=named_by))
        except SaveError as exc:
            log.warning("could not rename case %s: %s", store.case_id, exc)

    @staticmethod
    def _remember_patient(store: CaseStore, volume: Volume) -> None:
        """Keep the patient shown in the case list up to date (cases made before it was stored have none)."""
        if store.record.patient == volume.patient:
            return
        try:
            store.write_record(dataclasses.replace(store.record, patient=volume.patient))
        except SaveError as exc:
            log.warning("could not store the patient of case %s: %s", store.case_id, exc)

    @staticmethod
    def _check_same_grid(record: CaseRecord, volume: Volume) -> None:
        shape = (record.num_slices, record.height, record.width)
        if volume.shape != shape:
            raise InputError(f"case {record.display_name} was annotated on a {shape} volume but this CT loads as "
                             f"{volume.shape}; some slices may be missing from the folder")

    @property
    def removed_dir(self) -> Path:
        return self.root / "removed"

    def remove_case(self, case_id: str) -> Path:
        """Take a case off the list: its folder moves, untouched, to removed/ (the annotations stay on disk and
        opening the CT again starts a new case). The folder it now lies in; SaveError when it cannot move."""
        source = self.cases_dir / case_id
        target = self.removed_dir / case_id
        suffix = 1
        while target.exists():
            suffix += 1
            target = self.removed_dir / f"{case_id}-{suffix}"
        try:
            self.removed_dir.mkdir(exist_ok=True)
            source.rename(target)
        except OSError as exc:
            raise SaveError(f"{source} could not be moved to {self.removed_dir} ({exc.strerror or exc}); "
                            f"check that no other program has it open") from exc
        self._stores.pop(case_id, None)
        self._recent = [c for c in self._recent if c != case_id]
        self._write()
        return target

    # -- recent cases --------------------------------------------------------------------------
    def recent_cases(self) -> list[CaseRecord]:
        """Recently opened cases, most recent first (cases deleted from disk are left out)."""
        records = [self._readable_record(case_id) for case_id in self._recent
                   if (self.cases_dir / case_id / CASE_FILE).exists()]
        return [record for record in records if record is not None]

    def mark_recent(self, case_id: str) -> None:
        """Put a case at the top of the recent list and write workspace.json."""
        self._recent = [case_id] + [c for c in self._recent if c != case_id][: MAX_RECENT - 1]
        self._write()

    def _write(self) -> None:
        path = self.root / WORKSPACE_FILE
        try:
            atomic_write_text(path, json.dumps({"format": WORKSPACE_FORMAT, "version": 1,
                                                "recent": self._recent}, indent=1))
        except OSError as exc:
            raise SaveError(disk_write_message(path, exc)) from exc

    # -- training data -------------------------------------------------------------------------
    def training_items(self) -> Iterator[TrainingItem]:
        """Every saved EDITED or REVIEWED slice of every case, for retraining (unsaved edits are not included)."""
        for record in self.cases():
            store = self.case(record.case_id)
            for index in store.training_slices():
                yield TrainingItem(record.case_id, record.source_path, record.series_uid, index,
                                   store.annotation_path(index))
