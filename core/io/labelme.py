"""Labelme JSON files: read and write exactly the layout Labelme 5.x/6.x reads and writes.

A file is one image's annotation:
  {"version", "flags", "shapes": [{"label", "points", "group_id", "description",
   "shape_type", "flags", "mask"}, ...], "imagePath", "imageData", "imageHeight", "imageWidth"}
plus any other top-level keys (kept in LabelFile.extra) and any other per-shape keys
(kept in Shape.extra), so a file written by Labelme or another tool survives our edits.

Validation follows labelme/_label_file.py (read_label_file, _load_shape_json_obj): what
Labelme refuses we refuse, with a LabelFileError naming the file and the problem.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import PIL.Image

from core.errors import LabelFileError
from core.annotation.shape import Shape, png_b64_to_array
from core.io.atomic import atomic_write_text
from core.io.files import is_regular_file
from core.io.limits import MAX_SLICE_PIXELS

DEFAULT_VERSION = "5.5.0"
TOP_LEVEL_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
SHAPE_KEYS = ("label", "points", "group_id", "description", "shape_type", "flags", "mask")


@dataclass(frozen=True)
class LabelFile:
    """One Labelme JSON file. image_data is the raw encoded image (PNG bytes) or None."""

    shapes: tuple[Shape, ...]
    image_path: str
    image_height: int
    image_width: int
    image_data: bytes | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    version: str = DEFAULT_VERSION
    # Top-level keys Labelme does not define (our provenance, other tools' data), kept as read.
    extra: dict[str, Any] = field(default_factory=dict)


def read_label_file(path: str | Path) -> LabelFile:
    """Read a Labelme JSON file; raise LabelFileError saying which file and what is wrong."""
    path = Path(path)
    if path.exists() and not is_regular_file(path):
        raise LabelFileError(f"cannot read Labelme file {path}: it is not a regular file (a folder, pipe or device)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelFileError(f"cannot read Labelme file {path}: {exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelFileError(f"{path} is not valid JSON ({exc}); fix or delete the file") from exc
    except RecursionError as exc:
        raise LabelFileError(f"{path} nests JSON too deeply to be a Labelme file; delete or replace it") from exc
    try:
        return _label_file_from_json(raw, path)
    except (KeyError, TypeError, ValueError, OSError, binascii.Error, PIL.UnidentifiedImageError,
            PIL.Image.DecompressionBombError) as exc:
        problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise LabelFileError(f"{path} is not a valid Labelme file: {problem}") from exc


def write_label_file(path: str | Path, label_file: LabelFile) -> None:
    """Write atomically in Labelme's own key order (indent 2, UTF-8, like Labelme's save)."""
    path = Path(path)
    try:
        text = json.dumps(label_file_to_json(label_file), ensure_ascii=False, indent=2)
        atomic_write_text(path, text + "\n")
    except (OSError, TypeError, ValueError) as exc:
        raise LabelFileError(f"cannot write Labelme file {path}: {exc}") from exc


def label_file_to_json(label_file: LabelFile) -> dict[str, Any]:
    clash = sorted(set(label_file.extra) & set(TOP_LEVEL_KEYS))
    if clash:
        raise ValueError(f"extra keys {clash} are reserved by Labelme")
    image_data = None
    if label_file.image_data is not None:
        image_data = base64.b64encode(label_file.image_data).decode("ascii")
    data: dict[str, Any] = {
        "version": label_file.version,
        "flags": dict(label_file.flags),
        "shapes": [_shape_to_json(shape) for shape in label_file.shapes],
        "imagePath": label_file.image_path,
        "imageData": image_data,
        "imageHeight": int(label_file.image_height),
        "imageWidth": int(label_file.image_width),
    }
    data.update(label_file.extra)
    return data


def _shape_to_json(shape: Shape) -> dict[str, Any]:
    clash = sorted(set(shape.extra) & set(SHAPE_KEYS))
    if clash:
        raise ValueError(f"shape extra keys {clash} are reserved by Labelme")
    data: dict[str, Any] = {
        "label": shape.label,
        "points": [[float(x), float(y)] for x, y in shape.points],
        "group_id": shape.group_id,
        "description": shape.description,
        "shape_type": shape.shape_type,
        "flags": dict(shape.flags),
        "mask": shape.mask,
    }
    data.update(shape.extra)
    return data


def _label_file_from_json(raw: Any, path: Path) -> LabelFile:
    if not isinstance(raw, dict):
        raise TypeError(f"top level must be a JSON object, not {type(raw).__name__}")
    image_path = _typed(raw, "imagePath", str)
    image_path = PureWindowsPath(image_path).as_posix() if "\\" in image_path else image_path
    image_b64 = _typed(raw, "imageData", (str, type(None)))
    image_data = None if image_b64 is None else base64.b64decode(image_b64)
    shapes_raw = _typed(raw, "shapes", list)
    shapes = tuple(_shape_from_json(item, number) for number, item in enumerate(shapes_raw))
    flags = raw.get("flags") or {}
    _check_flags(flags, "flags")
    height, width = raw.get("imageHeight"), raw.get("imageWidth")
    if height is None or width is None:
        height, width = _image_size(image_data, path.parent / image_path)
    for key, value in (("imageHeight", height), ("imageWidth", width)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise TypeError(f"{key} must be a positive integer, not {value!r}")
    if height * width > MAX_SLICE_PIXELS:
        raise ValueError(f"imageHeight x imageWidth {height}x{width} is larger than any CT slice "
                         f"({MAX_SLICE_PIXELS:,} pixels at most)")
    version = raw.get("version") or DEFAULT_VERSION
    if not isinstance(version, str):
        raise TypeError(f"version must be a string, not {version!r}")
    extra = {key: value for key, value in raw.items() if key not in TOP_LEVEL_KEYS}
    return LabelFile(shapes=shapes, image_path=image_path, image_height=height, image_width=width,
                     image_data=image_data, flags=dict(flags), version=version, extra=extra)


def _shape_from_json(raw: Any, number: int) -> Shape:
    where = f"shape {number}"
    if not isinstance(raw, dict):
        raise TypeError(f"{where} must be a JSON object")
    label = _typed(raw, "label", str, where)
    points = _typed(raw, "points", list, where)
    if not points:
        raise ValueError(f"{where} ({label!r}) has no points")
    if not all(isinstance(p, list) and len(p) == 2 and all(_is_number(v) for v in p) for p in points):
        raise ValueError(f"{where} ({label!r}) points must be a list of [x, y] numbers")
    shape_type = _typed(raw, "shape_type", str, where)
    flags = raw.get("flags") or {}
    _check_flags(flags, f"{where} flags")
    description = raw.get("description") or ""
    group_id = raw.get("group_id")
    mask = raw.get("mask")
    if not isinstance(description, str):
        raise TypeError(f"{where} description must be a string")
    if group_id is not None and (not isinstance(group_id, int) or isinstance(group_id, bool)):
        raise TypeError(f"{where} group_id must be an integer or null, not {group_id!r}")
    if mask is not None:
        if not isinstance(mask, str):
            raise TypeError(f"{where} mask must be a base64-encoded PNG")
        png_b64_to_array(mask)  # Labelme decodes it on load: a broken one must fail here too
    extra = {key: value for key, value in raw.items() if key not in SHAPE_KEYS}
    return Shape(label=label, points=tuple((float(x), float(y)) for x, y in points), shape_type=shape_type,
                 group_id=group_id, description=description, flags=dict(flags), mask=mask, extra=extra)


def _typed(raw: dict, key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    if key not in raw:
        raise KeyError(f"{where} {key}".strip())
    value = raw[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise TypeError(f"{(where + ' ') if where else ''}{key} must be {names}, not {type(value).__name__}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_flags(flags: Any, where: str) -> None:
    if not isinstance(flags, dict) or not all(isinstance(k, str) and isinstance(v, bool) for k, v in flags.items()):
        raise TypeError(f"{where} must map names to true/false")


def _image_size(image_data: bytes | None, image_file: Path) -> tuple[int, int]:
    """(height, width) of the embedded image, else of the image file beside the JSON."""
    source = io.BytesIO(image_data) if image_data is not None else image_file
    with PIL.Image.open(source) as image:
        width, height = image.size
    return height, width
