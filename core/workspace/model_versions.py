"""Model versions kept in a workspace: every finished training run, every imported model, the starter model.

    <workspace>/models/versions.json        {"format", "version", "active": id | null, "previous": [ids]}
    <workspace>/models/<id>/model.msmodel   the engine's safe model file (core.model.model_file)
    <workspace>/models/<id>/version.json    ModelVersion: origin, date, metrics, comparison, data it saw

A version is never changed after it is written; activating one only rewrites versions.json, so the
active version survives restarts and any version can be activated again (rollback = the one that
was active before). Without any version the bundled starter model (resources/models, in the
repository and in every build: core.app_paths.bundled_models_dir) is registered and activated as the
first version (docs/decisions/071, 112).
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from core.app_paths import bundled_models_dir
from core.errors import InputError, ModelFileError
from core.io.atomic import atomic_path, atomic_write_text
from core.model.model_file import MODEL_SUFFIX, is_model_file, load_model, read_document

log = logging.getLogger(__name__)

VERSIONS_FILE = "versions.json"
VERSION_FILE = "version.json"
MODEL_FILE = "model" + MODEL_SUFFIX
VERSIONS_FORMAT = "mandible-studio-model-versions"
Progress = Callable[[int, int, str], None]


@dataclass
class ModelVersion:
    """One model of the workspace. `metrics` are on its own validation slices (None when it had none);
    `comparison` holds the new and the then-active model's metrics on those same slices."""

    version_id: str
    origin: str  # "trained", "imported" or "starter"
    created: str
    name: str = ""
    metrics: dict | None = None
    comparison: dict | None = None
    data: dict = field(default_factory=dict)  # cases and slices it was trained / validated on
    model_info: dict = field(default_factory=dict)  # what the model file says (schedule, init, device...)
    external_model: str | None = None  # the starter model is used where it is installed, not copied
    folder: Path | None = field(default=None, compare=False)

    @property
    def model_path(self) -> Path:
        return Path(self.external_model) if self.external_model else self.folder / MODEL_FILE

    @property
    def label(self) -> str:
        return self.name or self.version_id

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("folder")
        return json.dumps(data, indent=1, default=str)

    @classmethod
    def read(cls, folder: Path) -> "ModelVersion":
        path = folder / VERSION_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(version_id=str(data["version_id"]), origin=str(data["origin"]), created=str(data["created"]),
                       name=str(data.get("name", "")), metrics=data.get("metrics"),
                       comparison=data.get("comparison"), data=dict(data.get("data") or {}),
                       model_info=dict(data.get("model_info") or {}), external_model=data.get("external_model"),
                       folder=folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} cannot be read ({exc}); move the folder {folder} out of the workspace") from exc


class ModelVersions:
    """The model versions of one workspace folder (`<workspace>/models`)."""

    def __init__(self, models_dir: str | Path, starter_dir: Path | None = None):
        self.models_dir = Path(models_dir)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self._starter_dir = bundled_models_dir() if starter_dir is None else starter_dir
        self._lock = threading.Lock()
        self._state = self._read_state()
        self.warnings: list[str] = []

    # -- listing -----------------------------------------------------------------------------
    def versions(self) -> list[ModelVersion]:
        """Every readable version, oldest first; unreadable folders are skipped with a warning."""
        found = []
        for folder in sorted(p for p in self.models_dir.iterdir() if (p / VERSION_FILE).is_file()):
            try:
                found.append(ModelVersion.read(folder))
            except InputError as exc:
                log.warning("%s", exc)
        return sorted(found, key=lambda v: (v.created, v.version_id))

    def get(self, version_id: str) -> ModelVersion:
        folder = self.models_dir / version_id
        if not (folder / VERSION_FILE).is_file():
            raise InputError(f"model version {version_id} is not in {self.models_dir}")
        return ModelVersion.read(folder)

    @property
    def active_id(self) -> str | None:
        return self._state.get("active")

    def active(self) -> ModelVersion | None:
        """The active version; None when there is none (or its folder was removed)."""
        if self.active_id is None:
            return None
        try:
            return self.get(self.active_id)
        except InputError as exc:
            log.warning("active model version is gone: %s", exc)
            return None

    # -- activation -------------------------------------------------------------------------
    def activate(self, version_id: str) -> ModelVersion:
        """Make a version the active one (persisted); the previous one is remembered for rollback."""
        version = self.get(version_id)
        if not is_model_file(version.model_path):  # header only: the weights' checksum is verified on loading
            raise ModelFileError(f"{version.model_path} is missing or not a Mandible Studio model; "
                                 "activate another version or import the model again")
        with self._lock:
            previous = self._state.get("active")
            if previous != version_id:
                history = [v for v in self._state.get("previous", []) if v != version_id]
                if previous is not None:
                    history = [previous] + [v for v in history if v != previous]
                self._state = {"active": version_id, "previous": history[:50]}
                self._write_state()
        log.info("model version %s is active", version_id)
        return version

    def can_rollback(self) -> bool:
        existing = {v.version_id for v in self.versions()}
        return any(v in existing for v in self._state.get("previous", []))

    def rollback(self) -> ModelVersion:
        """Activate the version that was active before the current one."""
        existing = {v.version_id for v in self.versions()}
        candidates = [v for v in self._state.get("previous", []) if v in existing]
        if not candidates:
            raise InputError("there is no earlier active model to go back to; pick a version in the list instead")
        target, left = candidates[0], self.active_id
        version = self.activate(target)
        # Going back consumes the history: neither the target nor the version just left (which activate()
        # put first) stays in it, so repeated rollbacks walk further back instead of swapping two versions.
        with self._lock:
            self._state["previous"] = [v for v in self._state["previous"] if v not in (target, left)][:50]
            self._write_state()
        return version

    # -- adding ------------------------------------------------------------------------------
    def add_trained(self, model_file: str | Path, data: dict, metrics: dict | None = None,
                    comparison: dict | None = None, name: str = "") -> ModelVersion:
        """Move a finished training run's model file into a new version (not activated)."""
        model_file = Path(model_file)
        info = load_model(model_file).info
        return self._add(model_file, "trained", name, metrics, comparison, data, info, move=True)

    def import_model(self, path: str | Path, name: str = "", origin: str = "imported") -> ModelVersion:
        """Copy a model file into a new version after checking it loads (foreign/tampered files are refused)."""
        path = Path(path)
        info = load_model(path).info or {}
        return self._add(path, origin, name or path.stem, info.get("validation"), None, _training_data(info), info,
                         move=False)

    def export_model(self, version_id: str, dest: str | Path) -> Path:
        """Copy a version's model file to `dest` (a file, or a folder to put `<version id>.msmodel` in)."""
        version = self.get(version_id)
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"{version.version_id}{MODEL_SUFFIX}"
        try:
            with atomic_path(dest) as tmp:
                shutil.copyfile(version.model_path, tmp)
        except OSError as exc:
            raise ModelFileError(f"cannot write {dest}: {exc.strerror or exc}; choose a folder you can write to") \
                from exc
        return dest

    def starter_files(self) -> list[Path]:
        """The bundled starter model files (resources/models; a build may ship none)."""
        folder = self._starter_dir
        return sorted(folder.glob(f"*{MODEL_SUFFIX}")) if folder.is_dir() else []

    def ensure_starter(self) -> ModelVersion | None:
        """With no version at all, register and activate the bundled starter model (when there is one).

        The starter is used where it is installed (no copy per workspace). Only its header is read here
        (its metrics are shown as its file records them); the checksum over the whole file is verified
        whenever it is loaded.
        """
        if self.versions():
            return None
        for path in self.starter_files():
            try:
                info = read_document(path)[1].get("info", {})
            except ModelFileError as exc:
                self.warnings.append(f"the starter model is not used: {exc}")
                continue
            with self._lock:
                version_id = self._new_id("starter")
                folder = self.models_dir / version_id
                folder.mkdir()
            version = ModelVersion(version_id, "starter", _now(), f"starter: {path.stem}",
                                   metrics=_plain(_dict_or_none(info.get("validation"))), data=_training_data(info),
                                   model_info=_model_info(info), external_model=str(path.resolve()), folder=folder)
            atomic_write_text(folder / VERSION_FILE, version.to_json())
            return self.activate(version_id)
        return None

    def _add(self, source: Path, origin: str, name: str, metrics: dict | None, comparison: dict | None,
             data: dict, info: dict, move: bool) -> ModelVersion:
        with self._lock:
            version_id = self._new_id(origin)
            folder = self.models_dir / version_id
            folder.mkdir()
        version = ModelVersion(version_id, origin, _now(), name, _plain(metrics), _plain(comparison), data,
                               _model_info(info), folder=folder)
        try:
            if move:
                shutil.move(str(source), str(version.model_path))
            else:
                shutil.copyfile(source, version.model_path)
            atomic_write_text(folder / VERSION_FILE, version.to_json())
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ModelFileError(f"cannot store the model in {folder}: {exc.strerror or exc}; free some disk space")\
                from exc
        log.info("model version %s added (%s)", version_id, origin)
        return version

    def _new_id(self, origin: str) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{origin}"
        number = 1
        while (self.models_dir / f"{base}-{number}").exists():
            number += 1
        return f"{base}-{number}"

    # -- state file --------------------------------------------------------------------------
    def _read_state(self) -> dict:
        path = self.models_dir / VERSIONS_FILE
        if not path.exists():
            return {"active": None, "previous": []}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != VERSIONS_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}")
            return {"active": data.get("active"), "previous": [str(v) for v in data.get("previous", [])]}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s cannot be read (%s); no model is active", path, exc)
            return {"active": None, "previous": []}

    def _write_state(self) -> None:
        atomic_write_text(self.models_dir / VERSIONS_FILE,
                          json.dumps({"format": VERSIONS_FORMAT, "version": 1, **self._state}, indent=1))


def _model_info(info: dict) -> dict:
    """What a version keeps of its model file's info (schedule, init, device...)."""
    return {k: info[k] for k in ("encoder_init", "schedule", "best_epoch", "device", "training_seconds", "history",
                                 "provenance") if k in info}


def _dict_or_none(value) -> dict | None:
    return value if isinstance(value, dict) else None


def _training_data(info: dict) -> dict:
    return {key: info[key] for key in ("training",) if key in info}


def _plain(metrics: dict | None) -> dict | None:
    """Metrics as JSON numbers (the trainer's may hold numpy scalars)."""
    return None if metrics is None else json.loads(json.dumps(metrics, default=float))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
