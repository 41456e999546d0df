"""Turn a slice's mask into an RGBA QImage: a filled colour with adjustable opacity plus an outline.

Each pixel is drawn in the colour of where it came from (`pixel_origin`): blue where a person drew or changed
it, orange where it is still as the model predicted it, purple on an interpolated or propagated slice (made by
the program from a person's slices, not checked yet; decision 184). A technician sees at a glance what has been
checked. Hiding and peeking are view state (OverlayStyle, a frozen
value: whoever wants another style asks the SliceController for it). `overlay_patch` recomputes only the
box a change touched, plus the one-pixel ring whose outline it may have changed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

# RGB colours; chosen to read well on a grey CT and to differ for colour-blind users (blue/orange, and purple
# lighter than blue and darker than orange).
EDITED_RGB = (0, 200, 255)
PREDICTED_RGB = (255, 170, 0)
CARRIED_RGB = (200, 130, 255)
# Where a pixel came from (`pixel_origin`); a bool array works too (True: the model's).
FROM_PERSON, FROM_MODEL, CARRIED = 0, 1, 2


@dataclass(frozen=True)
class OverlayStyle:
    opacity: float = 0.4  # fill alpha, 0..1; the outline is always opaque
    outline: bool = True
    visible: bool = True
    edited_rgb: tuple[int, int, int] = EDITED_RGB
    predicted_rgb: tuple[int, int, int] = PREDICTED_RGB
    carried_rgb: tuple[int, int, int] = CARRIED_RGB


def pixel_origin(annotation) -> np.ndarray:
    """uint8 [row, col] of a SliceAnnotation: FROM_PERSON where edited, else CARRIED on an interpolated or
    propagated slice, FROM_MODEL otherwise."""
    untouched = CARRIED if annotation.source.is_carried else FROM_MODEL
    return np.where(annotation.edited, FROM_PERSON, untouched).astype(np.uint8)


def mask_outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask that touch a background pixel (4-neighbourhood); bool array."""
    inside = mask.astype(bool)
    padded = np.pad(inside, 1, mode="constant")
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return inside & ~interior


def overlay_rgba(mask: np.ndarray, origin: np.ndarray | None, style: OverlayStyle) -> np.ndarray:
    """RGBA uint8 [rows, cols, 4]. ``origin`` says where each pixel came from (`pixel_origin`; None: a person)."""
    rows, cols = mask.shape
    rgba = np.zeros((rows, cols, 4), np.uint8)
    inside = mask.astype(bool)
    if not style.visible or not inside.any():
        return rgba
    fill_alpha = int(round(np.clip(style.opacity, 0.0, 1.0) * 255))
    rgba[inside] = (*style.edited_rgb, fill_alpha)
    if origin is not None:
        origin = np.asarray(origin, np.uint8)
        rgba[inside & (origin == FROM_MODEL)] = (*style.predicted_rgb, fill_alpha)
        rgba[inside & (origin == CARRIED)] = (*style.carried_rgb, fill_alpha)
    if style.outline:
        edge = mask_outline(inside)
        rgba[edge, 3] = 255
    return rgba


def overlay_patch(mask: np.ndarray, origin: np.ndarray | None, style: OverlayStyle,
                  region: tuple[slice, slice]) -> tuple[tuple[slice, slice], np.ndarray]:
    """(box, RGBA) to repaint after a change of `region`: the region grown by the one pixel whose outline
    may have changed, computed from a window one pixel larger still so its own outline is right."""
    rows, cols = mask.shape
    box = _grown(region, 1, rows, cols)
    window = _grown(box, 1, rows, cols)
    rgba = overlay_rgba(mask[window], None if origin is None else origin[window], style)
    inner = (slice(box[0].start - window[0].start, box[0].stop - window[0].start),
             slice(box[1].start - window[1].start, box[1].stop - window[1].start))
    return box, rgba[inner]


def _grown(region: tuple[slice, slice], by: int, rows: int, cols: int) -> tuple[slice, slice]:
    return (slice(max(0, region[0].start - by), min(rows, region[0].stop + by)),
            slice(max(0, region[1].start - by), min(cols, region[1].stop + by)))


def gray_to_qimage(gray: np.ndarray) -> QImage:
    """A Grayscale8 QImage copy of a uint8 [rows, cols] array."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    rows, cols = gray.shape
    image = QImage(gray.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
    return image.copy()
