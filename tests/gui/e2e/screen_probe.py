"""Run in a subprocess by test_usability_screen.py (the screen is fixed when Qt starts): build the main window,
with the bundled sample open when given, on the screen the environment describes, and print one JSON object
saying where its parts lie."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QScrollArea, QToolButton


def rect(widget) -> list[int]:
    """The widget's rectangle in global (screen) coordinates."""
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def describe(window) -> dict:
    screen = window.screen().availableGeometry()
    toolbar = window.toolbar
    retrain = toolbar.widgetForAction(window.ai.training.actions["retrain"])
    extension = next((b for b in toolbar.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"), None)
    scroll = window.tools_dock.widget()
    assert isinstance(scroll, QScrollArea)
    column = scroll.widget()
    parts = {"window": window.frameGeometry(), "status bar": window.statusBar(), "toolbar": toolbar,
             "right panel": scroll, "left panel": window.case_list, "view": window.view}
    return {
        "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
        "parts": {name: ([part.x(), part.y(), part.width(), part.height()] if isinstance(part, QRect)
                         else rect(part) if part.isVisible() else None) for name, part in parts.items()},
        "retrain": rect(retrain) if retrain is not None and retrain.isVisible() else None,
        "extension": rect(extension) if extension is not None and extension.isVisible() else None,
        "right panel needs": column.minimumSizeHint().width(),
        "right panel has": scroll.viewport().width(),
        "dialogs": dialog_rects(window),
    }


def dialog_rects(window) -> dict:
    """Where the dialogs of the case-wide history and the review loop open (issue 18: they fit or scroll)."""
    from gui.mark_reviewed import MarkReviewedDialog

    shown = {"history": window.history.show(), "shortcuts": window.help.show_shortcuts(),
             "mark reviewed": MarkReviewedDialog(window, 128, 0, 0)}
    shown["mark reviewed"].show()
    found = {}
    for name, dialog in shown.items():
        frame = dialog.frameGeometry()
        found[name] = [frame.x(), frame.y(), frame.width(), frame.height()]
        dialog.close()
    return found


def main(workspace: str, case: str | None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from gui.app import make_application

    app = make_application([])
    from gui.main_window import MainWindow

    window = MainWindow(workspace)
    window.show()

    def report(*_args) -> None:
        app.processEvents()
        print(json.dumps(describe(window)))
        window.ai.shutdown()
        app.exit(0)

    if case:
        window.case_opened.connect(lambda _id: QTimer.singleShot(100, report))
        window.open_failed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))
        window.open_path(case)
    else:
        QTimer.singleShot(100, report)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
