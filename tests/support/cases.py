"""Small workspace cases made in a test: no ../shared, no model."""
from __future__ import annotations

import numpy as np

from core.volume import Volume
from core.workspace import OpenCase, Workspace


def saved_case(workspace: Workspace, name: str, source, slices=(2, 3, 4)) -> OpenCase:
    """A 8x32x32 CT named `name` (opened from `source`) with a disk saved on `slices` (EDITED); `case.strokes`
    holds each slice's edit (a MaskChange) so a test can undo it."""
    volume = Volume(hu=np.full((8, 32, 32), 40, np.int16), spacing=(2.0, 1.0, 1.0), name=name)
    case = OpenCase(volume, workspace.add_case(volume, source))
    case.strokes = {index: case.annotation(index).paint_disk(16, 16, 4 + index, 1) for index in slices}
    case.save()
    return case
