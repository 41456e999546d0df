"""Look at the linked views on a CT before they are wired into the main window.

    python -m gui.views.preview CT [LABELS.nii.gz] [--slice N] [--screenshot OUT.png] [--software-gl]

CT is anything the app opens (DICOM folder, NIfTI, image stack); LABELS a label volume on the
same grid. With --screenshot it waits for the 3-D mesh, saves the window as a PNG and exits.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from PySide6.QtWidgets import QApplication

from core.errors import MandibleStudioError
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from core.windowing import display_window_for
from gui.views.crosshair import Crosshair
from gui.views.layout import ViewLayout
from gui.views.planes import ArrayLabels

MESH_WAIT_S = 120


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.views.preview", description=__doc__.splitlines()[0])
    parser.add_argument("ct")
    parser.add_argument("labels", nargs="?")
    parser.add_argument("--slice", type=int, default=None)
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--software-gl", action="store_true", help="show the 3-D view on software OpenGL too")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        volume = load_volume(args.ct)
        labels = load_nifti_labels(args.labels, volume) if args.labels else np.zeros(volume.shape, np.uint8)
    except MandibleStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    point = _start_point(labels, args.slice)
    views = ViewLayout(volume, ArrayLabels(labels), Crosshair(volume.shape, point), display_window_for(volume),
                       allow_software_gl=args.software_gl)
    views.setWindowTitle(f"Mandible Studio views: {volume.name}")
    views.resize(1200, 960)
    views.show()
    if args.screenshot is None:
        return app.exec()
    deadline = time.monotonic() + MESH_WAIT_S
    while (views.builder.busy or not views.isVisible()) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.05)
    views.grab().save(args.screenshot)
    print(f"saved {args.screenshot}")
    return 0


def _start_point(labels: np.ndarray, slice_index: int | None) -> tuple[int, int, int]:
    """The labelled voxel nearest the mandible's middle (or the CT's middle), on `slice_index` when given."""
    found = np.argwhere(labels > 0)
    if slice_index is not None and (found[:, 0] == slice_index).any():
        found = found[found[:, 0] == slice_index]
    if len(found) == 0:
        centre = np.array(labels.shape) // 2
    else:
        centre = found[np.argmin(((found - found.mean(axis=0)) ** 2).sum(axis=1))]
    if slice_index is not None:
        centre[0] = slice_index
    return tuple(int(c) for c in centre)  # type: ignore[return-value]


if __name__ == "__main__":
    sys.exit(main())
