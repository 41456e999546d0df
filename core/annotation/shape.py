"""One annotated shape as Labelme defines it (a polygon, or a mask bitmap), with no file format attached.

core.io.labelme reads and writes these; core.annotation.polygons turns masks into them and back.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import PIL.Image


@dataclass(frozen=True)
class Shape:
    """One Labelme shape. points are (x, y) in pixels: x = column, y = row."""

    label: str
    points: tuple[tuple[float, float], ...]
    shape_type: str = "polygon"
    group_id: int | None = None
    description: str = ""
    flags: dict[str, bool] = field(default_factory=dict)
    # For shape_type "mask": base64 PNG of the region between the two corner points, as stored.
    mask: str | None = None
    # Per-shape keys Labelme does not define, kept as read.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept lists or (N, 2) arrays; store immutable float pairs so shapes compare by value.
        object.__setattr__(self, "points", tuple((float(x), float(y)) for x, y in self.points))

    def mask_array(self) -> np.ndarray | None:
        """The decoded "mask" bitmap (bool, rows x cols of the bounding box), or None."""
        return None if self.mask is None else png_b64_to_array(self.mask) > 0


def png_b64_to_array(data: str) -> np.ndarray:
    """Decode a base64 PNG (Labelme's imageData / shape mask encoding) to an array."""
    with PIL.Image.open(io.BytesIO(base64.b64decode(data, validate=False))) as image:
        return np.asarray(image)
