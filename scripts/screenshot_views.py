"""Take docs/screenshot-3d.png from the real app: the development head (../shared/data/cranium) open
with its mandible label imported, the 2x2 layout (L) with the crosshair on the mandible, the 3-D view
started on software OpenGL (the user's "Show the 3-D view anyway").

    xvfb-run -a -s "-screen 0 1920x1080x24" /work/main/.venv/bin/python scripts/screenshot_views.py docs/screenshot-3d.png

A developer's tool, not part of the app: it lives outside the `gui` package.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gui.app import make_application  # noqa: E402

CRANIUM = Path(__file__).resolve().parents[2] / "shared" / "data" / "cranium"
SIZE = (1880, 1040)
MESH_WAIT_S = 120


def take(out: Path, cranium: Path = CRANIUM) -> int:
    app = make_application([])
    from gui.main_window import MainWindow

    window = MainWindow(Path(tempfile.mkdtemp()) / "workspace")
    window.resize(*SIZE)
    window.move(0, 0)  # all of it on the screen that is grabbed
    window.show()
    done: list[int] = []
    window.open_failed.connect(lambda message: (print(message, file=sys.stderr), done.append(1)))
    window.case_opened.connect(lambda _id: window.import_labels(cranium / "label.nii.gz"))
    window.labels_imported.connect(lambda _n: done.append(0))
    window.open_path(cranium / "dicom")
    _wait(app, lambda: done, 300)
    if done != [0]:
        return 1
    labels = np.stack([window.session.annotation(i).mask for i in range(window.session.num_slices)])
    slices = np.flatnonzero(labels.reshape(len(labels), -1).any(axis=1))
    middle = int(slices[len(slices) // 2])
    found = np.argwhere(labels[middle] > 0)
    right = found[found[:, 1] < labels.shape[2] // 2]  # one ramus: the coronal and sagittal planes cut it
    point = (middle, *right[np.argmin(((right - right.mean(axis=0)) ** 2).sum(axis=1))])
    window.actions["switch_layout"].trigger()
    window.case_views.crosshair.move_to(*(int(v) for v in point))
    views = window.case_views.layout
    views.surface.start_anyway()
    _wait(app, lambda: views.surface.mesh is not None, MESH_WAIT_S)
    _wait(app, lambda: False, 1.5)
    pixmap = window.screen().grabWindow(window.winId())
    if pixmap.isNull() or pixmap.width() < 100:
        pixmap = window.grab()
    pixmap.save(str(out))
    print(f"wrote {out} ({pixmap.width()}x{pixmap.height()}), crosshair at slice {int(point[0]) + 1}")
    window.close()
    return 0


def _wait(app, condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot-3d.png")))
