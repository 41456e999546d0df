"""Start the desktop app: `run_app(argv)`; no argument opens the bundled sample case, one argument opens that path."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from core.app_paths import DISPLAY_NAME, default_workspace_dir, resources_dir, sample_case_dir
from gui.workers import collect_garbage_in_gui_thread


def load_style_sheet() -> str:
    """The dark theme; ICONS/ in url(...) points at resources/icons wherever the app is installed."""
    path = resources_dir() / "style" / "dark.qss"
    if not path.exists():
        return ""
    icons = (resources_dir() / "icons").as_posix()
    return path.read_text(encoding="utf-8").replace("url(ICONS/", f"url({icons}/")


def make_application(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "mandible-studio", *argv])
    app.setApplicationName(DISPLAY_NAME)
    app.setOrganizationName("MandibleStudio")
    app.setStyle("Fusion")
    app.setStyleSheet(load_style_sheet())
    collect_garbage_in_gui_thread(app)  # docs/decisions/150: no worker thread destroys a GUI object
    return app


def run_app(argv: list[str], workspace: str | Path | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_application([])
    from gui.main_window import MainWindow  # after QApplication exists

    window = MainWindow(workspace or default_workspace_dir())
    window.show()
    target = Path(argv[0]) if argv else sample_case_dir()
    if argv or target.exists():
        window.open_path(target)
    return app.exec()
