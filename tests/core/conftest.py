"""Fixtures of the core tests: a fresh workspace, and the shared DICOM case and development head."""
from __future__ import annotations

import pytest

from core.io.dicom import load_dicom_series
from core.io.nifti import load_nifti_labels
from core.workspace import Workspace
from tests.support.paths import shared_path, validation_label_path


@pytest.fixture(scope="session")
def dicom_case():
    """okbp_pt_201 loaded from its DICOM series (random file names), with its NIfTI label."""
    volume = load_dicom_series(shared_path("data", "dicom", "okbp_pt_201"))
    return volume, load_nifti_labels(validation_label_path("okbp_pt_201"), volume)


@pytest.fixture(scope="session")
def cranium():
    """The full-resolution development head (DICOM, 0.957 mm pixels, 1.5 mm slices) and its mandible label."""
    from core.io.loader import load_volume

    volume = load_volume(shared_path("data", "cranium", "dicom"))
    return volume, load_nifti_labels(shared_path("data", "cranium", "label.nii.gz"), volume)


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A new, empty workspace."""
    return Workspace.create(tmp_path / "ws")


@pytest.fixture(scope="module")
def starter():
    """The bundled starter model, loaded (core.model.model_file.starter_model)."""
    from core.model.model_file import load_model, starter_model

    return load_model(starter_model())


@pytest.fixture
def case(workspace, sample_volume):
    """The bundled sample opened as a case of a new workspace (an OpenCase)."""
    from core.workspace import OpenCase
    from tests.support.paths import SAMPLE_DIR

    return OpenCase(sample_volume, workspace.add_case(sample_volume, SAMPLE_DIR))
