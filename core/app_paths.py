"""Where the app finds its bundled resources and keeps the user's data.

Resources live beside the code (or in PyInstaller's bundle folder when frozen). Settings, the
default workspace and model versions live in the platform's user data folder (platformdirs),
never inside the installed program folder. MANDIBLE_STUDIO_HOME overrides that folder
(tests, portable installs).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MandibleStudio"  # the data folder's name
DISPLAY_NAME = "Mandible Studio"  # what windows, dialogs and the system call the app


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[1]
    return base / "resources"


def sample_case_dir() -> Path:
    """The bundled sample CT (OpenKBP case pt_224, RLE-compressed DICOM)."""
    return resources_dir() / "samples" / "okbp_pt_224"


def sample_label_path() -> Path:
    """Clinical mandible contour of the bundled sample, as a NIfTI label volume."""
    return resources_dir() / "samples" / "okbp_pt_224_label.nii.gz"


def user_data_dir() -> Path:
    override = os.environ.get("MANDIBLE_STUDIO_HOME")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """What the app can make again from a file it checked (a model converted for OpenVINO, named by the model's
    checksum): the platform's cache folder, shared by every workspace and by MANDIBLE_STUDIO_HOME's (so tests
    that isolate their data folder do not convert again); MANDIBLE_STUDIO_CACHE overrides it."""
    override = os.environ.get("MANDIBLE_STUDIO_CACHE")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_workspace_dir() -> Path:
    return user_data_dir() / "workspace"


def bundled_models_dir() -> Path:
    """The starter model: in the repository (the one model file in git) and in every build."""
    return resources_dir() / "models"
