"""The workspace as training data: every EDITED or REVIEWED slice of every case, split by case.

    inventory = training_inventory(workspace)      # what will train, and what is left out and why
    data = gather_workspace_data(workspace, staging_dir, val_fraction=0.2, seed=0, progress=..., cancel=...)
    config = data.training_config(out="model.msmodel", epochs=..., ...)   # -> core.training.trainer

A slice counts when a person edited or reviewed it and the work is on disk: saved as Labelme JSON, or
only autosaved so far (the autosave snapshot is newer than any saved file and is what the case list
shows; docs/decisions/123). Nothing that the case list shows as done is left out silently.

The engine's trainer reads folders (core.training.data.discover_cases), so the human-checked slices
are staged as an nnU-Net folder (docs/decisions/070): per case, imagesTr/<case>_0000.nii.gz holds only
the training slices of the CT, exact HU read from the case's source (through the case's grey-value calibration,
the one its annotations were made on), and labelsTr/<case>.nii.gz the
saved Labelme masks of those slices. Every staged slice was checked by a human, so an empty one is a
true negative. The split is the engine's own `split_cases` on the staged cases with the same fraction
and seed, so `val_refs` are exactly the validation cases the trainer will use, and a new model can be
compared with the active one on the same validation slices.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator

import nibabel as nib
import numpy as np

from core.errors import Cancelled, InputError, LabelFileError, MandibleStudioError, TrainingError
from core.calibration import GreyCalibration, rounded_int16
from core.io.grey_values import AUTO
from core.model.preprocess import image_slices_map
from core.io.atomic import atomic_path, atomic_write_text
from core.io.loader import load_volume
from core.io.nifti import save_nifti_labels, volume_affine_ras
from core.io.slice_export import read_slice_mask
from core.volume import Volume
from core.model.config import ModelConfig
from core.training.config import TrainingConfig
from core.training.data import CaseRef, discover_cases, split_cases
from core.workspace.autosave import read_autosave
from core.workspace.workspace import Workspace

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
STAGED_FILE = "staged.json"


@dataclass
class WorkspaceTrainingData:
    """Staged training data of a workspace and its split by case."""

    folder: Path
    slices: dict[str, list[int]]  # case id -> staged slice indexes (of the original CT)
    train_refs: list[CaseRef]
    val_refs: list[CaseRef]
    val_fraction: float
    seed: int
    warnings: list[str] = field(default_factory=list)

    @property
    def num_cases(self) -> int:
        return len(self.slices)

    @property
    def num_slices(self) -> int:
        return sum(len(v) for v in self.slices.values())

    def summary(self) -> dict:
        """The data a model saw, for its version record: cases and slices, split by case."""
        def part(refs: list[CaseRef]) -> dict:
            return {ref.name: self.slices[ref.name] for ref in refs}

        return {"cases": self.num_cases, "slices": self.num_slices,
                "train": part(self.train_refs), "validation": part(self.val_refs)}

    def training_config(self, out: str | Path, **settings) -> TrainingConfig:
        """A TrainingConfig on the staged folder with this split's fraction and seed (other settings as given)."""
        return TrainingConfig(data=[str(self.folder)], out=str(out), val_fraction=self.val_fraction,
                              seed=self.seed, **settings)


@dataclass(frozen=True)
class TrainingSlice:
    """One slice a person edited or reviewed: its CT and where its mask is on disk."""

    case_id: str
    case_name: str
    source: Path | None
    series_uid: str | None
    index: int
    saved: Path  # its Labelme JSON (may not exist when the work is only autosaved)
    autosaved: Path | None  # the newer autosave snapshot, when there is one
    calibration: GreyCalibration | None = None  # the case's grey-value calibration (None: estimated again)

    def read_mask(self, height: int, width: int) -> np.ndarray:
        if self.autosaved is not None:
            restored = read_autosave(self.autosaved, (height, width))
            if restored is None:
                raise InputError(f"slice {self.index + 1}: its autosaved version cannot be read")
            return restored[0].mask
        try:
            return read_slice_mask(self.saved, height, width)[0]
        except LabelFileError as exc:
            raise InputError(f"slice {self.index + 1}: {exc}") from exc


@dataclass
class TrainingInventory:
    """What Retrain will use: the slices, and each case left out with the reason."""

    slices: list[TrainingSlice] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # case name -> why it cannot train

    def by_case(self) -> dict[str, list[TrainingSlice]]:
        cases: dict[str, list[TrainingSlice]] = defaultdict(list)
        for item in self.slices:
            cases[item.case_id].append(item)
        return dict(cases)

    @property
    def autosaved(self) -> int:
        return sum(item.autosaved is not None for item in self.slices)


def training_inventory(workspace: Workspace) -> TrainingInventory:
    """Every EDITED or REVIEWED slice whose work is on disk, saved or autosaved (cheap: only names are read)."""
    inventory = TrainingInventory()
    for record in workspace.cases():
        store = workspace.case(record.case_id)
        autosaved = set(store.draft_indexes())
        done = sorted(i for i, status in store.statuses.items() if status.is_training_data)
        on_disk = [i for i in done if i in autosaved or store.annotation_path(i).exists()]
        if not on_disk:
            continue
        if record.source_path is None or not Path(record.source_path).exists():
            inventory.excluded[record.display_name] = (f"its CT is no longer at {record.source_path}; open it again "
                                                       "from its new place")
            continue
        inventory.slices.extend(
            TrainingSlice(record.case_id, record.display_name, Path(record.source_path), record.series_uid, i,
                          store.annotation_path(i), store.autosave_path(i) if i in autosaved else None,
                          record.calibration)
            for i in on_disk)
    return inventory


def gather_workspace_data(workspace: Workspace, folder: str | Path, val_fraction: float = 0.2, seed: int = 0,
                          progress: Progress | None = None,
                          cancel: threading.Event | None = None) -> WorkspaceTrainingData:
    """Stage every EDITED/REVIEWED slice of `workspace` (training_inventory) in `folder` (emptied first) and
    split by case; `progress(cases staged, cases, message)`. See iter_gather_workspace_data."""
    gathering = iter_gather_workspace_data(workspace, folder, val_fraction, seed, cancel)
    while True:
        try:
            step, total, message = next(gathering)
        except StopIteration as finished:
            return finished.value
        if progress is not None:
            progress(step, total, message)


def iter_gather_workspace_data(workspace: Workspace, folder: str | Path, val_fraction: float, seed: int,
                               cancel: threading.Event | None = None
                               ) -> Generator[tuple[int, int, str], None, WorkspaceTrainingData]:
    """Yields (cases staged, cases, message) and returns the staged data.

    Raises TrainingError when no case can be used; cases whose CT cannot be read are left out and
    described in `warnings`.
    """
    inventory = training_inventory(workspace)
    by_case = inventory.by_case()
    if not by_case:
        raise TrainingError("no training data yet: correct some slices (or mark good predictions reviewed with R); "
                            "only edited or reviewed slices are used for training")
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    staged, warnings = {}, [f"case {name} left out: {why}" for name, why in inventory.excluded.items()]
    for number, (case_id, items) in enumerate(sorted(by_case.items())):
        if cancel is not None and cancel.is_set():
            raise Cancelled("training cancelled while gathering the workspace's slices")
        try:
            staged[case_id] = _stage_case(folder, case_id, items)
        except MandibleStudioError as exc:
            warnings.append(f"case {case_id} left out: {exc}")
            log.warning("case %s left out of training: %s", case_id, exc)
        yield number + 1, len(by_case), f"gathered {len(items)} slices of {items[0].case_name}"
    if not staged:
        raise TrainingError("none of the workspace's cases could be read for training:\n" + "\n".join(warnings))
    atomic_write_text(folder / STAGED_FILE, json.dumps({"slices": staged, "warnings": warnings}, indent=1))
    return load_staged(folder, val_fraction, seed)


def load_staged(folder: str | Path, val_fraction: float = 0.2, seed: int = 0) -> WorkspaceTrainingData:
    """Data staged earlier by gather_workspace_data (to resume a run on exactly the same slices)."""
    folder = Path(folder)
    try:
        record = json.loads((folder / STAGED_FILE).read_text(encoding="utf-8"))
        slices = {str(case): [int(i) for i in indexes] for case, indexes in record["slices"].items()}
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise TrainingError(f"the staged training data in {folder} is gone or damaged ({exc}); "
                            "start a new training run") from exc
    train, val = split_cases(discover_cases([folder]), val_fraction, seed)
    return WorkspaceTrainingData(folder, slices, train, val, val_fraction, seed, list(record.get("warnings", [])))


def _stage_case(folder: Path, case_id: str, items: list[TrainingSlice]) -> list[int]:
    source = items[0].source
    if source is None or not source.exists():
        raise InputError(f"its CT is no longer at {source}; open it again from its new place")
    volume = load_volume(source, series_uid=items[0].series_uid, calibration=items[0].calibration or AUTO)
    indexes = sorted(item.index for item in items)
    height, width = volume.shape[1:]
    labels = np.zeros((len(indexes), height, width), np.uint8)
    for row, item in enumerate(sorted(items, key=lambda i: i.index)):
        labels[row] = item.read_mask(height, width) > 0
    part = dataclasses.replace(volume, hu=_hu_of(volume, indexes), units="HU", sop_uids=None, warnings=[])
    _save_nifti_image(folder / "imagesTr" / f"{case_id}_0000.nii.gz", part)
    save_nifti_labels(folder / "labelsTr" / f"{case_id}.nii.gz", labels, part)
    return indexes


def _hu_of(volume: Volume, indexes: list[int]) -> np.ndarray:
    """The chosen slices in HU (int16); image stacks (display units) through the model's map of them
    (core.model.preprocess.image_slices_map), as the network sees them."""
    values = volume.hu[indexes]
    grey = image_slices_map(volume, ModelConfig())
    return rounded_int16(values if grey is None else grey(values))


def _save_nifti_image(path: Path, volume: Volume) -> None:
    image = nib.Nifti1Image(np.ascontiguousarray(volume.hu.transpose(2, 1, 0)), volume_affine_ras(volume))
    image.set_qform(image.affine, code=1)
    image.set_sform(image.affine, code=1)
    with atomic_path(path) as tmp:
        nib.save(image, str(tmp))
