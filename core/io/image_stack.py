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
import PIL.Image

from core.errors import InputError
from core.io.files import is_regular_file, require_regular_file
from core.io.limits import MAX_SLICE_PIXELS, check_slice_size, check_volume_size
from core.volume import Volume

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: 'img2' < 'img10'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in `folder`, in natural order."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
             and not p.name.startswith(".") and is_regular_file(p)]
    return sorted(files, key=lambda p: natural_key(p.name))


def image_size(path: Path) -> tuple[int, int]:
    """(rows, cols) from the image's header alone, nothing decoded; InputError if it has none."""
    require_regular_file(path, "an image file")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes); remove it or replace it.")
    try:
        with open(path, "rb") as fp, PIL.Image.open(fp) as image:
            cols, rows = image.size
    except PIL.Image.DecompressionBombError as exc:
        side = int(MAX_SLICE_PIXELS ** 0.5)
        raise InputError(f"{path} declares an image larger than the {side}x{side} pixels Mandible Studio opens; "
                         "the file is damaged or not a CT slice.") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for files it cannot identify
        raise InputError(f"{path} is not a readable image ({exc}); remove it or replace it.") from exc
    return rows, cols


def read_gray_image(path: Path) -> np.ndarray:
    """An 8- or 16-bit grayscale image (colour made grey); its declared size is checked before decoding."""
    rows, cols = image_size(path)
    check_slice_size(rows, cols, str(path))
    # The bytes through imdecode, never a path to imread: OpenCV crashes on paths that are not UTF-8.
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} cannot be read ({exc}); check the file.") from exc
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
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
    sizes = [image_size(p) for p in files]  # headers only: sizes are checked before anything is decoded
    for path, (rows, cols) in zip(files, sizes):
        if (rows, cols) != sizes[0]:
            raise InputError(f"{path.name} is {cols}x{rows} pixels but {files[0].name} is "
                             f"{sizes[0][1]}x{sizes[0][0]}; all slices must have the same size.")
    check_volume_size((len(files), *sizes[0]), str(folder))
    slices = [read_gray_image(p) for p in files]
    dtype = np.uint16 if any(s.dtype == np.uint16 for s in slices) else np.uint8
    stack = np.stack([s.astype(dtype, copy=False) for s in slices])
    return Volume(hu=stack, spacing=(1.0, 1.0, 1.0), name=folder.name, source=folder, units="display",
                  spacing_known=False,
                  warnings=["Image stack: no pixel spacing is known, 1 mm is assumed."])
