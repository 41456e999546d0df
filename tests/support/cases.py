"""Cases made in a test: small synthetic workspace cases, and workspaces or training folders of shared cases."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import nibabel as nib
import numpy as np

from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels, load_nifti_volume, volume_affine_ras
from core.volume import Volume
from core.workspace import OpenCase, Workspace
from tests.support.paths import SAMPLE_DIR, shared_path

TRAINING_CASES = ("okbp_pt_1", "okbp_pt_2", "okbp_pt_4")
VALIDATION_CASES = ("okbp_pt_201", "okbp_pt_202")


def saved_case(workspace: Workspace, name: str, source, slices=(2, 3, 4)) -> OpenCase:
    """A 8x32x32 CT named `name` (opened from `source`) with a disk saved on `slices` (EDITED); `case.strokes`
    holds each slice's edit (a MaskChange) so a test can undo it."""
    volume = Volume(hu=np.full((8, 32, 32), 40, np.int16), spacing=(2.0, 1.0, 1.0), name=name)
    case = OpenCase(volume, workspace.add_case(volume, source))
    case.strokes = {index: case.annotation(index).paint_disk(16, 16, 4 + index, 1) for index in slices}
    case.save()
    return case


def nnunet_folder(root: Path, cases=TRAINING_CASES, split: str = "train") -> Path:
    """A small nnU-Net folder of links to shared OpenKBP cases."""
    source = shared_path("data", "openkbp", split)
    for sub in ("imagesTr", "labelsTr"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for case in cases:
        (root / "imagesTr" / f"{case}_0000.nii.gz").symlink_to(source / "imagesTr" / f"{case}_0000.nii.gz")
        (root / "labelsTr" / f"{case}.nii.gz").symlink_to(source / "labelsTr" / f"{case}.nii.gz")
    return root


def add_labelled_case(workspace: Workspace, name: str, keep: int):
    """A shared validation case in `workspace` with its first `keep` labelled slices imported (the first of
    them reviewed) and saved: (case, volume, labels, chosen slices)."""
    root = shared_path("data", "openkbp", "validation")
    image = root / "imagesTr" / f"{name}_0000.nii.gz"
    volume = load_nifti_volume(image)
    labels = load_nifti_labels(root / "labelsTr" / f"{name}.nii.gz", volume)
    store = workspace.add_case(volume, image)
    case = OpenCase(volume, store)
    chosen = [i for i in range(len(labels)) if labels[i].any()][:keep]
    case.import_labels(labels * np.isin(np.arange(len(labels)), chosen)[:, None, None])
    case.toggle_reviewed(chosen[0])
    case.save()
    return case, volume, labels, chosen


def small_ct(path: Path, first: int, slices: int = 4) -> Path:
    """A few slices of the bundled sample through the jaw, as a NIfTI CT: quick to segment."""
    sample = load_volume(SAMPLE_DIR)
    part = dataclasses.replace(sample, hu=sample.hu[first:first + slices])
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(part.hu.transpose(2, 1, 0), volume_affine_ras(part)), path)
    return path
