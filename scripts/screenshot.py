"""Take docs/screenshot.png from the real app: the bundled sample open, a slice through the mandible,
its overlay made the way a user makes it. With a model installed (resources/models/ or the
workspace's active version), the whole case is segmented by it (orange) and a brush correction
is painted on the slice (blue); without one, the sample's clinical contour is imported (blue).

    xvfb-run -s '-screen 0 1600x1000x24' .venv/bin/python scripts/screenshot.py docs/screenshot.png

A developer's tool, not part of the app: it lives outside the `gui` package.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core.app_paths import sample_case_dir, sample_label_path  # noqa: E402
from gui.app import make_application  # noqa: E402

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

    def show_slice(*_args) -> None:
        session = window.session
        window.controller.show_slice(SLICE)
        if window.ai.models.versions.active() is not None:
            QTimer.singleShot(200, lambda: brush_correction(session.annotation(SLICE).mask))
        QTimer.singleShot(600, grab)

    def brush_correction(mask: np.ndarray) -> None:
        """Drag the real brush, bone-only (HU threshold), over bone in front of the prediction that
        the model missed, as a user correcting it would."""
        hu = window.session.volume.hu[SLICE]
        rows, cols = np.nonzero(mask)
        if not rows.size:
            return
        missed = (hu >= 300) & ~mask.astype(bool)
        missed[rows.max() + 1:] = False
        missed[:, :cols.min()] = missed[:, cols.max() + 1:] = False
        ys, xs = np.nonzero(missed)
        if not ys.size:
            return
        order = np.argsort(xs)[:: max(1, ys.size // 12)]
        points = [QPointF(xs[i] + 0.5, ys[i] + 0.5) for i in order]
        window.actions.tool_brush.trigger()
        window.actions.hu_threshold.setChecked(True)
        window.tool_panel.radius.setValue(2)
        viewport = window.view.viewport()
        QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, window.view.mapFromScene(points[0]))
        for point in points[1:]:
            QTest.mouseMove(viewport, window.view.mapFromScene(point))
        QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, window.view.mapFromScene(points[-1]))

    def fill_overlay(_case_id: str) -> None:
        if window.ai.models.versions.active() is not None:
            window.ai.segmenting.predict.finished.connect(show_slice)
            window.ai.segmenting.segment_case()
        else:
            window.labels_imported.connect(show_slice)
            window.import_labels(sample_label_path())

    window.case_opened.connect(fill_overlay)
    window.open_failed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))
    window.open_path(sample_case_dir())
    return app.exec()


if __name__ == "__main__":
    sys.exit(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")))
