"""Labelled cases for training and evaluation, from the folders a user points at.

Accepted (and mixable) sources:
  * nnU-Net layout (the OpenKBP data): imagesTr/<case>_0000.nii.gz + labelsTr/<case>.nii.gz;
  * a Labelme folder: <index>.json + <index>.png as written by core.io.slice_export (the paper's format),
    or a folder of such case folders;
  * one CT (DICOM folder, NIfTI, image folder) with its labels (NIfTI or Labelme folder).
A case is the unit of the train/validation split (never a slice).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError, LabelFileError
from core.io.image_stack import read_gray_image
from core.io.slice_export import PROVENANCE_KEY, labelled_slice_index, read_slice_mask
from core.volume import Volume
from core.calibration import image_slices_calibration

log = logging.getLogger(__name__)

_SLICE_JSON = re.compile(r"^(\d+)\.json$")


@dataclass(frozen=True)
class CaseRef:
    """Where one labelled case lives; nothing is read until load_labelled_case."""

    name: str
    kind: str  # "nnunet", "labelme" or "volume"
    image: Path
    labels: Path | None = None


@dataclass
class LabelledCase:
    """A CT (possibly only some of its slices) with mandible labels on the same grid."""

    name: str
    volume: Volume
    labels: np.ndarray  # uint8 [n, rows, cols]
    slice_numbers: np.ndarray  # original slice index of each row of `labels`


def _nnunet_cases(root: Path) -> list[CaseRef]:
    refs = []
    for label_path in sorted((root / "labelsTr").glob("*.nii*")):
        name = label_path.name.split(".nii")[0]
        image = next(iter(sorted((root / "imagesTr").glob(f"{name}_0000.nii*"))), None)
        if image is None:
            log.warning("%s has no image %s_0000.nii.gz in imagesTr; skipped", label_path, name)
            continue
        refs.append(CaseRef(name, "nnunet", image, label_path))
    return refs


def _has_slice_json(folder: Path) -> bool:
    return any(_SLICE_JSON.match(p.name) for p in folder.iterdir())


def discover_cases(paths: list[str | Path], labels: str | Path | None = None) -> list[CaseRef]:
    """Every case under `paths`; with `labels`, `paths` must be one CT and `labels` its label map."""
    if labels is not None:
        if len(paths) != 1:
            raise InputError("--labels goes with exactly one CT in --data")
        image = Path(paths[0])
        return [CaseRef(image.name.split(".nii")[0], "volume", image, Path(labels))]
    refs: list[CaseRef] = []
    for path in map(Path, paths):
        refs.extend(_cases_in(path))
    names = [ref.name for ref in refs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"case names occur twice in --data ({', '.join(duplicates[:3])}); "
                         "give each folder once")
    return refs


def _cases_in(path: Path, depth: int = 0) -> list[CaseRef]:
    if not path.is_dir():
        raise InputError(f"training data {path} is not a folder; give an nnU-Net folder (imagesTr, labelsTr) "
                         "or a folder of Labelme JSON slices")
    if (path / "labelsTr").is_dir() and (path / "imagesTr").is_dir():
        return _nnunet_cases(path)
    if _has_slice_json(path):
        return [CaseRef(path.name, "labelme", path)]
    refs = []
    if depth < 2:
        for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
            refs.extend(_cases_in(child, depth + 1) if _looks_like_data(child) else [])
    if not refs and depth == 0:
        raise InputError(f"no labelled cases in {path}: expected imagesTr/ and labelsTr/ (nnU-Net layout) "
                         "or Labelme slices (0042.json + 0042.png), or folders of them")
    return refs


def _looks_like_data(folder: Path) -> bool:
    return ((folder / "labelsTr").is_dir() or _has_slice_json(folder)
            or any(p.is_dir() for p in folder.iterdir()))


def load_labelled_case(ref: CaseRef) -> LabelledCase:
    if ref.kind == "labelme":
        return _load_labelme_case(ref)
    from core.io.labels import load_labels
    from core.io.loader import load_volume

    volume = load_volume(ref.image)
    labels = (load_labels(ref.labels, volume) > 0).astype(np.uint8)
    return LabelledCase(ref.name, volume, labels, np.arange(volume.num_slices))


def _slice_image(json_path: Path, image_name: str) -> np.ndarray:
    try:
        return read_gray_image(json_path.parent / image_name)
    except InputError as exc:
        raise InputError(f"{json_path} refers to {image_name}, which cannot be read next to it: {exc}") from exc


def _load_labelme_case(ref: CaseRef) -> LabelledCase:
    """Labelme slices of one scan. PNGs exported from HU with a known window are turned back into HU."""
    files = sorted((p for p in ref.image.iterdir() if _SLICE_JSON.match(p.name)),
                   key=lambda p: int(_SLICE_JSON.match(p.name).group(1)))
    images, masks, numbers, windows, spacing = [], [], [], [], None
    for json_path in files:
        try:
            mask, label_file = read_slice_mask(json_path)
        except LabelFileError as exc:
            raise InputError(f"training data: {exc}") from exc
        image = _slice_image(json_path, label_file.image_path)
        if image.shape != mask.shape:
            raise InputError(f"{json_path}: its image is {image.shape}, the labels are for {mask.shape}")
        provenance = label_file.extra.get(PROVENANCE_KEY) or {}
        window = provenance.get("window") or {}
        hu_window = provenance.get("units") == "HU" and "center" in window and image.dtype == np.uint8
        windows.append((float(window["center"]), float(window["width"])) if hu_window else None)
        spacing = provenance.get("pixel_spacing_mm") or spacing
        images.append(image)
        masks.append(mask)
        numbers.append(labelled_slice_index(json_path, label_file))
    if len({im.shape for im in images}) > 1:
        raise InputError(f"the Labelme slices in {ref.image} have different sizes; one folder must hold one scan")
    if all(w is not None for w in windows):
        # PNGs exported through a known HU window: 0..255 back to that window's HU
        hu = np.stack([image_slices_calibration(0, 255, *w).grey_map(im) for im, w in zip(images, windows)])
        units = "HU"
    else:  # plain images: keep display values, the model maps them through its bone window
        hu, units = np.stack(images), "display"
    row, col = (float(spacing[0]), float(spacing[1])) if spacing else (0.0, 0.0)
    volume = Volume(hu=hu, spacing=(0.0, row, col), name=ref.name, source=ref.image, units=units)
    return LabelledCase(ref.name, volume, (np.stack(masks) > 0).astype(np.uint8), np.asarray(numbers))


def select_slices(case: LabelledCase, near: int = 8, far: int = 4, seed: int = 0) -> np.ndarray:
    """Rows of `case` to train on: every mandible slice, the empty slices within `near` slices of the
    mandible, and `far` empty slices from further away (docs/decisions/024)."""
    positive = case.labels.reshape(len(case.labels), -1).any(axis=1)
    if not positive.any():
        return np.arange(0)
    numbers = case.slice_numbers
    low, high = numbers[positive].min() - near, numbers[positive].max() + near
    close = ~positive & (numbers >= low) & (numbers <= high)
    distant = np.flatnonzero(~positive & ~close)
    rng = np.random.default_rng([seed, len(numbers), int(positive.sum())])
    picked = rng.choice(distant, size=min(far, len(distant)), replace=False) if len(distant) else distant
    return np.sort(np.concatenate([np.flatnonzero(positive | close), picked]).astype(int))


def held_out_count(cases: int, val_fraction: float) -> int:
    """How many of `cases` split_cases holds out: none below two cases or at fraction 0, else at least one
    and never all."""
    return 0 if cases < 2 or val_fraction == 0 else min(cases - 1, max(1, round(cases * val_fraction)))


def held_out_positions(cases: int, val_fraction: float, seed: int = 0) -> list[int]:
    """Which of `cases` (positions in their sorted order) split_cases holds out."""
    order = np.random.default_rng(seed).permutation(cases)
    return sorted(order[:held_out_count(cases, val_fraction)].tolist())


def split_cases(refs: list[CaseRef], val_fraction: float, seed: int = 0) -> tuple[list[CaseRef], list[CaseRef]]:
    """Whole cases go to training or validation; at least one of each when there are two or more."""
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"--val-fraction must be at least 0 and below 1, not {val_fraction}")
    val = held_out_positions(len(refs), val_fraction, seed)
    return [r for i, r in enumerate(refs) if i not in val], [refs[i] for i in val]
