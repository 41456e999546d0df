"""Start the desktop app: `run_app(argv)`; one argument opens that path, none reopens the case the user worked on
last (the bundled sample only on a first start, when the workspace has no case yet)."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from core.app_logging import configure_logging
from core.app_paths import DISPLAY_NAME, default_workspace_dir, resources_dir, sample_case_dir
from core.workspace import Workspace
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


def start_case(workspace: Workspace, argv: list[str]) -> tuple[Path, str | None] | None:
    """What the app opens on start: the path given, else the most recent case whose CT is still there (with its
    series), else the bundled sample on a first start (a workspace without cases); None: nothing."""
    if argv:
        return Path(argv[0]), None
    for record in workspace.recent_cases():
        if record.source_path is not None and record.source_path.exists():
            return record.source_path, record.series_uid
    sample = sample_case_dir()
    return (sample, None) if not workspace.cases() and sample.exists() else None


def run_app(argv: list[str], workspace: str | Path | None = None) -> int:
    configure_logging()  # the log file in the data folder (logs/mandible-studio.log), as for the CLI
    app = make_application([])
    from gui.main_window import MainWindow  # after QApplication exists

    window = MainWindow(workspace or default_workspace_dir())
    window.show()
    target = start_case(window.workspace, argv)
    if target is not None:
        window.open_path(*target)
    return app.exec()
