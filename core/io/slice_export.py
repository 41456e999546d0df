"""One CT slice on disk as Labelme sees it: <NNNN>.png (8-bit windowed) + <NNNN>.json.

NNNN is the slice number a user sees on screen, counted from 1 (`slice_stem`: the 64th slice, index 63,
is 0064.json), so "slice 64" means the same slice in the app, in messages and in the folder
(docs/decisions/143). The JSON names its image relatively ("0064.png"), so the folder can be moved or
opened in Labelme as is. Provenance sits in one extra top-level key, PROVENANCE_KEY, holding only
technical identifiers (series/SOP UIDs, the 0-based `slice_index` in the canonical order, spacing,
window): never the patient's name, ID or birth date, which Volume does not carry either.
"""
from __future__ import annotations

import io
import logging
import re
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import PIL.Image

from core.annotation.polygons import HOLE_LABEL, mask_to_shapes, shapes_to_mask
from core.errors import Cancelled, LabelFileError
from core.io.atomic import atomic_write_bytes
from core.io.labelme import LabelFile, read_label_file, write_label_file
from core.volume import Volume
from core.windowing import Window, display_window_for, hu_to_display

log = logging.getLogger(__name__)

PROVENANCE_KEY = "mandibleStudio"
MANDIBLE_LABEL = "mandible"
Progress = Callable[[int, int, str], None]


_STEM = re.compile(r"^(\d+)\.(json|png|npz)$")


def slice_stem(index: int) -> str:
    """The one place that names slice files: the slice number a user sees (index + 1), four digits or more."""
    return f"{int(index) + 1:04d}"


def slice_index_of(name: str) -> int | None:
    """The 0-based slice index a file named by `slice_stem` stands for ("0064.json" -> 63); None for other names."""
    match = _STEM.match(name)
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) - 1


def labelled_slice_index(json_path: str | Path, label_file: LabelFile) -> int | None:
    """The CT slice a Labelme file belongs to: the `slice_index` our provenance recorded (every file we
    wrote, whatever its name), else the slice number in its name."""
    provenance = label_file.extra.get(PROVENANCE_KEY)
    if isinstance(provenance, dict) and isinstance(provenance.get("slice_index"), int):
        return int(provenance["slice_index"])
    return slice_index_of(Path(json_path).name)


def export_window(volume: Volume, preset: Window) -> Window:
    """The window for a batch export: `preset` for CT in HU, the stack's own range for image stacks."""
    return preset if volume.units == "HU" else display_window_for(volume)


def write_slice_image(out_dir: str | Path, index: int, volume: Volume, window: Window) -> Path:
    """Write slice `index` as an 8-bit grayscale PNG <NNNN>.png (atomic); return its path."""
    path = Path(out_dir) / f"{slice_stem(index)}.png"
    atomic_write_bytes(path, _png_bytes(volume, index, window))
    return path


def export_slice(out_dir: str | Path, index: int, volume: Volume, mask: np.ndarray | None, window: Window,
                 extra: dict[str, Any] | None = None, embed_image: bool = False,
                 label: str = MANDIBLE_LABEL) -> Path:
    """Write <NNNN>.png and <NNNN>.json for slice `index` (NNNN = slice_stem(index)); return the JSON path.

    `mask` (rows x cols, nonzero = mandible; None = no shapes) becomes polygons, holes included.
    If the JSON already exists (say, after an edit in Labelme), its flags, unknown keys and shapes
    of other labels are kept; other labels are drawn first so they never cover the mandible.
    `extra` adds top-level keys. With `embed_image` the PNG is also stored in imageData.
    `window` is used as given (what the user sees); see export_window for batch exports.
    """
    out_dir = Path(out_dir)
    rows, cols = volume.shape[1], volume.shape[2]
    if mask is not None and np.shape(mask) != (rows, cols):
        raise ValueError(f"mask shape {np.shape(mask)} does not match slice shape {(rows, cols)}")
    png = _png_bytes(volume, index, window)
    image_path = out_dir / f"{slice_stem(index)}.png"
    json_path = out_dir / f"{slice_stem(index)}.json"
    kept_shapes, kept_flags, kept_extra = _existing_content(json_path, label)
    shapes = kept_shapes + (mask_to_shapes(mask, label=label) if mask is not None else [])
    top_extra = {**kept_extra, **(extra or {}), PROVENANCE_KEY: slice_provenance(volume, index, window)}
    label_file = LabelFile(shapes=tuple(shapes), image_path=image_path.name, image_height=rows, image_width=cols,
                           image_data=png if embed_image else None, flags=kept_flags, extra=top_extra)
    atomic_write_bytes(image_path, png)
    write_label_file(json_path, label_file)
    return json_path


def slice_provenance(volume: Volume, index: int, window: Window) -> dict[str, Any]:
    """Technical identifiers of a slice; deliberately nothing that identifies the patient."""
    sop_uid = volume.sop_uids[index] if volume.sop_uids and index < len(volume.sop_uids) else None
    return {
        "series_uid": volume.series_uid,
        "sop_instance_uid": sop_uid,
        "slice_index": int(index),
        "num_slices": volume.num_slices,
        "pixel_spacing_mm": [float(volume.spacing[1]), float(volume.spacing[2])],
        "slice_spacing_mm": float(volume.spacing[0]),
        "window": {"center": float(window.center), "width": float(window.width)},
        "units": volume.units,
        # No volume or folder name: clinics often name folders after the patient.
    }


def read_slice_mask(json_path: str | Path, height: int | None = None, width: int | None = None,
                    label: str = MANDIBLE_LABEL) -> tuple[np.ndarray, LabelFile]:
    """The `label` mask (uint8 0/1) exactly as Labelme rasterizes the file, and the file itself.

    height/width, when given, must match the file's imageHeight/imageWidth (the slice grid).
    """
    label_file = read_label_file(json_path)
    height = label_file.image_height if height is None else int(height)
    width = label_file.image_width if width is None else int(width)
    if (label_file.image_height, label_file.image_width) != (height, width):
        raise LabelFileError(f"{json_path} is for a {label_file.image_height}x{label_file.image_width} image, "
                             f"but the slice is {height}x{width}; it belongs to another scan")
    try:
        mask = shapes_to_mask(label_file.shapes, height, width, label=label)
    except ValueError as exc:
        raise LabelFileError(f"{json_path}: {exc}") from exc
    return mask, label_file


def export_volume(out_dir: str | Path, volume: Volume, labels: np.ndarray | None, window: Window,
                  all_slices: bool = False, progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> tuple[int, int]:
    """PNG for every slice, JSON for slices with a label (every slice with `all_slices`).

    `window` is a preset for CT; image stacks not in HU use their own range (export_window).

    Returns (pngs written, jsons written). Raises Cancelled when `cancel` is set.
    """
    if labels is not None and np.shape(labels) != volume.shape:
        raise ValueError(f"labels shape {np.shape(labels)} does not match the CT's {volume.shape}")
    pngs = jsons = 0
    total = volume.num_slices
    window = export_window(volume, window)
    for index in range(total):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"export cancelled after {index} of {total} slices")
        mask = None if labels is None else np.asarray(labels[index]) > 0
        if all_slices or (mask is not None and mask.any()):
            export_slice(out_dir, index, volume, mask, window)
            jsons += 1
        else:
            write_slice_image(out_dir, index, volume, window)
        pngs += 1
        if progress is not None:
            progress(index + 1, total, f"slice {index + 1}/{total}")
    return pngs, jsons


def _png_bytes(volume: Volume, index: int, window: Window) -> bytes:
    if not 0 <= index < volume.num_slices:
        raise IndexError(f"slice {index} is outside 0..{volume.num_slices - 1}")
    pixels = np.asarray(hu_to_display(volume.hu[index], window), dtype=np.uint8)
    buffer = io.BytesIO()
    PIL.Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _existing_content(json_path: Path, label: str) -> tuple[list, dict, dict]:
    """Shapes of other labels, flags and unknown keys of a JSON we are about to replace."""
    if not json_path.exists():
        return [], {}, {}
    try:
        existing = read_label_file(json_path)
    except LabelFileError as exc:
        log.warning("replacing unreadable %s: %s", json_path, exc)
        return [], {}, {}
    others = [shape for shape in existing.shapes if shape.label not in (label, HOLE_LABEL)]
    return others, dict(existing.flags), dict(existing.extra)
