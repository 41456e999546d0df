"""Mandible labels for a whole volume, from a NIfTI label map or a folder of Labelme slices."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.nifti import load_nifti_labels
from core.io.slice_export import MANDIBLE_LABEL, labelled_slice_index, read_slice_mask, slice_index_of
from core.volume import Volume

log = logging.getLogger(__name__)


def load_labels(path: str | Path, volume: Volume, label: str = MANDIBLE_LABEL) -> np.ndarray:
    """uint8 [slice, row, col] labels for `volume` (canonical orientation, 0 = background).

    `path` is a .nii/.nii.gz label map (values kept) or a folder of <NNNN>.json Labelme files
    (core.io.slice_export.slice_stem; our provenance's slice_index wins over the name), or one of
    them (1 where `label` is; slices without a file are 0). Raises InputError or LabelFileError.
    """
    path = Path(path)
    if path.suffix.lower() == ".json" and path.is_file():
        path = path.parent  # one slice of a Labelme folder stands for the folder
    if not path.exists():
        raise InputError(f"labels {path} do not exist; give a .nii.gz label map or a folder of Labelme JSON")
    if path.is_dir():
        return _labels_from_labelme_folder(path, volume, label)
    if path.name.lower().endswith((".nii", ".nii.gz")):
        return load_nifti_labels(path, volume)
    raise InputError(f"labels {path} are neither a NIfTI file (.nii/.nii.gz) nor a folder of Labelme JSON")


def _labels_from_labelme_folder(folder: Path, volume: Volume, label: str) -> np.ndarray:
    labels = np.zeros(volume.shape, dtype=np.uint8)
    found = 0
    for json_path in sorted(folder.iterdir()):
        if json_path.suffix != ".json" or slice_index_of(json_path.name) is None:
            continue
        mask, label_file = read_slice_mask(json_path, volume.shape[1], volume.shape[2], label=label)
        index = labelled_slice_index(json_path, label_file)
        if index is None or not 0 <= index < volume.num_slices:
            raise InputError(f"{json_path} is not one of the {volume.num_slices} slices of this CT (0001.json is "
                             "the first); these labels belong to another scan")
        labels[index] = mask
        found += 1
    if not found:
        raise InputError(f"{folder} holds no <number>.json Labelme slices (e.g. 0042.json)")
    log.info("read %d Labelme slices from %s", found, folder)
    return labels
