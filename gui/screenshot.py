"""Take docs/screenshot.png from the real app: the bundled sample open, its clinical label imported as the
overlay, a slice through the mandible, part of it shown as a model prediction.

    xvfb-run -s '-screen 0 1600x1000x24' .venv/bin/python -m gui.screenshot docs/screenshot.png
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer

from core.app_paths import sample_case_dir, sample_label_path
from gui.app import make_application

SLICE = 58
SIZE = (1500, 920)


def take(out: Path) -> int:
    app = make_application([])
    from gui.main_window import MainWindow

    window = MainWindow(Path(tempfile.mkdtemp()) / "workspace")
    window.resize(*SIZE)
    window.show()

    def grab() -> None:
        app.processEvents()
        pixmap = window.screen().grabWindow(window.winId())
        if pixmap.isNull() or pixmap.width() < 100:
            pixmap = window.grab()
        pixmap.save(str(out))
        print(f"wrote {out} ({pixmap.width()}x{pixmap.height()})")
        app.exit(0)

    def show_labels(_count: int) -> None:
        session = window.session
        window.controller.show_slice(SLICE)
        # Show the patient's left half as a model prediction (orange) beside human-edited bone (blue).
        annotation = session.annotation(SLICE)
        mask = annotation.mask.copy()
        middle = int(np.nonzero(mask)[1].mean())
        half = np.zeros_like(mask)
        half[:, middle:] = mask[:, middle:]
        annotation.set_predicted(half)
        annotation.set_mask(mask)
        QTimer.singleShot(400, grab)

    window.labels_imported.connect(show_labels)
    window.case_opened.connect(lambda _id: window.import_labels(sample_label_path()))
    window.open_failed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))
    window.open_path(sample_case_dir())
    return app.exec()


if __name__ == "__main__":
    sys.exit(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")))
