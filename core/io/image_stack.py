"""A folder of 2-D images (PNG, JPEG, TIFF, BMP), one per slice, as a Volume.

Slices are ordered by natural sort of the file names (slice2 before slice10). Images are assumed
to be axial slices already shown the canonical way (anterior at the top, patient's right on the
left) and ordered head to feet; no spacing is known, so 1 mm is used. 8-bit images give a uint8
volume with units="display"; 16-bit images keep their values (uint16, also units="display":
they are not known to be Hounsfield units). Colour images are converted to grey.
"""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from core.errors import InputError
from core.volume import Volume

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: 'img2' < 'img10'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in `folder`, in natural order."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def _read_gray(path: Path) -> np.ndarray:
    # imdecode of the bytes instead of imread: works with non-ASCII paths on Windows.
    image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise InputError(f"{path} is not a readable image; remove it or replace it.")
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code) if image.shape[2] in (3, 4) else image[..., 0]
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{path} has {image.dtype} pixels; 8- or 16-bit images are needed.")
    return image


def load_image_stack(folder: str | Path) -> Volume:
    """All images of `folder` stacked as slices [slice, row, col]."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; choose a folder of PNG, JPEG or TIFF slices.")
    files = image_files(folder)
    if not files:
        raise InputError(f"{folder} holds no PNG, JPEG or TIFF images.")
    slices = [_read_gray(p) for p in files]
    first = slices[0]
    for path, image in zip(files, slices):
        if image.shape != first.shape:
            raise InputError(f"{path.name} is {image.shape[1]}x{image.shape[0]} pixels but {files[0].name} is "
                             f"{first.shape[1]}x{first.shape[0]}; all slices must have the same size.")
    dtype = np.uint16 if any(s.dtype == np.uint16 for s in slices) else np.uint8
    stack = np.stack([s.astype(dtype, copy=False) for s in slices])
    return Volume(hu=stack, spacing=(1.0, 1.0, 1.0), name=folder.name, source=folder, units="display",
                  spacing_known=False,
                  warnings=["Image stack: no pixel spacing is known, 1 mm is assumed."])
