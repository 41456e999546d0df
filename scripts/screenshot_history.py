"""Take the screenshots of issue 18 from the real app on the bundled sample: the History list after a few
actions (docs/history.png), the slice list with a filter on (docs/slice-filters.png) and the 2x2 views with their
titles and orientation letters (docs/views-2x2.png).

    xvfb-run -a -s '-screen 0 1600x1000x24' .venv/bin/python scripts/screenshot_history.py docs

The case is segmented by the starter model (resources/models/) when one is installed, else by the sample's
clinical contour imported as labels. A developer's tool, not part of the app: it lives outside the `gui` package.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402

from core.app_paths import sample_case_dir, sample_label_path  # noqa: E402
from core.workspace.review import SliceFilter  # noqa: E402
from gui.app import make_application  # noqa: E402

SIZE = (1500, 920)


def take(folder: Path) -> int:
    app = make_application([])
    from gui.main_window import MainWindow

    window = MainWindow(Path(tempfile.mkdtemp()) / "workspace")
    window.resize(*SIZE)
    window.show()

    def save(widget, name: str) -> None:
        app.processEvents()
        widget.grab().save(str(folder / name))
        print(f"wrote {folder / name}")

    def work(*_args) -> None:
        """A technician's few actions: review two slices, interpolate over the predictions between them, a
        propagation, a brush dab; then the pictures."""
        controller, actions = window.controller, window.actions  # the actions the keys trigger (R, N, Shift+PgUp):
        for index in (52, 60):  # without a window manager the window is never active for its shortcuts
            controller.show_slice(index)
            actions["mark_reviewed"].trigger()
        actions["replace_predicted"].setChecked(True)
        controller.show_slice(56)
        actions["interpolate"].trigger()
        controller.show_slice(52)
        window.multi_slice.finished.connect(lambda _why: QTimer.singleShot(300, pictures))
        actions["propagate_up"].trigger()

    def pictures() -> None:
        window.controller.show_slice(58)
        history = window.history.show()
        history.resize(460, 300)
        QTimer.singleShot(300, lambda: save(history, "history.png"))
        QTimer.singleShot(600, filters)

    def filters() -> None:
        window.history.dialog.close()
        window.slice_list.set_filter(SliceFilter.NOT_REVIEWED)
        window.slice_list.scrollToItem(window.slice_list.item(40), window.slice_list.ScrollHint.PositionAtTop)
        save(window.slice_list.parentWidget().parentWidget(), "slice-filters.png")
        window.slice_list.set_filter(SliceFilter.ALL)
        window.actions["switch_layout"].trigger()
        QTimer.singleShot(1500, two_by_two)

    def two_by_two() -> None:
        surface = window.case_views.layout.surface
        if not surface.available and surface.start_button.isVisible():
            surface.start_anyway()  # software OpenGL under Xvfb: the user's "Show the 3-D view anyway"
        QTimer.singleShot(4000, lambda: (save(window.view_host, "views-2x2.png"), app.exit(0)))

    def fill(_case_id: str) -> None:
        if window.ai.models.versions.active() is not None:
            window.ai.segmenting.predict.finished.connect(lambda _summary: QTimer.singleShot(200, work))
            window.ai.segmenting.segment_case()
        else:
            window.labels_imported.connect(lambda _count: QTimer.singleShot(200, work))
            window.import_labels(sample_label_path())

    window.case_opened.connect(fill)
    window.open_failed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))
    window.open_path(sample_case_dir())
    return app.exec()


if __name__ == "__main__":
    sys.exit(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
