"""The one training entry for "train on the edited and reviewed slices of this workspace" (issue 12).

    plan = RetrainPlan({"epochs": 10, "init": "/path/active.msmodel"})    # only what differs from TrainingConfig
    for event in retrain(workspace_root, plan, compare_models, resume=False, cancel=cancel):
        ...   # Gathering, DataReady, the trainer's events, Comparing (core.training.events)
    # the generator's return value is the new ModelVersion

It gathers the slices (core.training.workspace_data), trains (core.training.trainer), measures the new model
and the active one on the same held-out cases with `compare` (core.evaluation.compare_models, handed in: that
floor sits above training) and adds the new version, not activated.
A run lives in <workspace>/models/_run/ (staged data, plan.json, the trainer's checkpoint) until it
finishes, so a cancelled or failed run resumes on exactly the same slices, even after a restart.
The app runs this in a child process and only supervises it (gui.ai.training_process).
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Generator, Iterator

from core.errors import TrainingError
from core.io.atomic import atomic_write_text
from core.training.checkpoint import finished_epochs
from core.training.config import TrainingConfig
from core.training.slices import SliceSampling
from core.training.events import Comparing, DataReady, Gathering, RetrainEvent
from core.training.trainer import run_training
from core.training.workspace_data import WorkspaceTrainingData, iter_gather_workspace_data, load_staged

log = logging.getLogger(__name__)

RUN_FOLDER = "_run"
PLAN_FILE = "plan.json"
MODEL_FILE = "model.msmodel"
# Settings a plan may carry: TrainingConfig's fields except those the workspace decides, plus a cap on slices.
_FIXED = ("data", "out", "sampling", "restart")
MAX_SLICES = "max_slices_per_case"


@dataclass
class RetrainPlan:
    """The settings of a retraining run that differ from TrainingConfig's defaults (the only place they live)."""

    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        allowed = {f.name for f in fields(TrainingConfig) if f.name not in _FIXED} | {MAX_SLICES}
        unknown = sorted(set(self.settings) - allowed)
        if unknown:
            raise TrainingError(f"unknown training settings: {', '.join(unknown)}")

    def value(self, name: str):
        """The plan's value of setting `name`, else TrainingConfig's default."""
        return self.settings[name] if name in self.settings else TrainingConfig.default(name)

    def training_config(self, data: WorkspaceTrainingData, out: Path) -> TrainingConfig:
        settings = {k: v for k, v in self.settings.items() if k not in (MAX_SLICES, "val_fraction", "seed")}
        sampling = SliceSampling(max_per_case=self.settings.get(MAX_SLICES), seed=data.seed)
        return data.training_config(out, sampling=sampling, **settings)

    def to_json(self) -> str:
        return json.dumps(self.settings, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "RetrainPlan":
        return cls(dict(json.loads(text)))


def run_folder(models_dir: Path) -> Path:
    return Path(models_dir) / RUN_FOLDER


def interrupted_plan(models_dir: Path) -> RetrainPlan | None:
    """The plan of a run that was cancelled or failed and can be resumed, if any."""
    path = run_folder(models_dir) / PLAN_FILE
    try:
        return RetrainPlan.from_json(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, ValueError, TypeError, TrainingError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def resume_epoch(models_dir: Path) -> int:
    """Epochs the interrupted run holds on disk (read from the checkpoint's small sidecar, never the checkpoint)."""
    return finished_epochs(run_folder(models_dir) / MODEL_FILE)


def retrain(workspace_root: Path, plan: RetrainPlan, compare: Callable, resume: bool,
            cancel: threading.Event | None = None) -> Generator[RetrainEvent, None, object]:
    """Gather (or, resuming, reuse) the data, train, compare with the active model on the same held-out cases,
    and add the new version; raises Cancelled or a MandibleStudioError that says what to do.
    `compare(candidate, baseline, val_refs, device, cancel=...)` is core.evaluation.compare_models."""
    from core.workspace import Workspace
    from core.workspace.model_versions import ModelVersions

    if plan.value("context_slices"):
        raise TrainingError("the app trains on single slices it has staged, not whole CTs; a model that looks at "
                            "neighbouring slices (2.5-D) is trained with 'main.py train' on whole volumes")
    workspace = Workspace.open(workspace_root)
    versions = ModelVersions(workspace.models_dir)
    data = yield from _data(workspace, plan, resume, cancel)
    yield DataReady(data.summary())
    config = plan.training_config(data, run_folder(workspace.models_dir) / MODEL_FILE)
    yield from run_training(config, cancel)
    active = versions.active()
    yield Comparing("measuring the new model and the active one on the same held-out cases…")
    comparison = compare(config.out, active.model_path if active else None, data.val_refs, config.device,
                                cancel=cancel)
    if comparison is not None and active is not None:
        comparison["baseline_version"] = active.version_id
    version = versions.add_trained(config.out, data.summary(), comparison["candidate"] if comparison else None,
                                   comparison, name=f"retrained on {data.num_slices} slices of {data.num_cases} case(s)")
    shutil.rmtree(run_folder(workspace.models_dir), ignore_errors=True)
    return version


def _data(workspace, plan: RetrainPlan, resume: bool, cancel) -> Iterator[Gathering]:
    folder = run_folder(workspace.models_dir)
    val_fraction, seed = plan.value("val_fraction"), plan.value("seed")
    if resume:
        return load_staged(folder / "data", val_fraction, seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    atomic_write_text(folder / PLAN_FILE, plan.to_json())
    gathering = iter_gather_workspace_data(workspace, folder / "data", val_fraction, seed, cancel)
    while True:
        try:
            yield Gathering(*next(gathering))
        except StopIteration as finished:
            return finished.value
