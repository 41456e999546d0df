"""Where the app's log goes, for the command line and the desktop app alike: our own INFO messages on stderr,
everything (library warnings, tracebacks) in `logs/mandible-studio.log` in the user's data folder."""
from __future__ import annotations

import logging
import logging.handlers
import sys

from core.app_paths import user_data_dir

# Loggers whose records (library details, tracebacks) go to the log file only, never to the terminal.
FILE_ONLY_LOGGERS = ("pydicom", "highdicom", "PIL", "py.warnings", "nibabel", "trimesh", "mandible_studio")
LOG_FILE = "mandible-studio.log"


class _OwnMessages(logging.Filter):
    """Lets through our own log records, never those of FILE_ONLY_LOGGERS."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(record.name == name or record.name.startswith(name + ".") for name in FILE_ONLY_LOGGERS)


def configure_logging() -> str | None:
    """Our INFO messages on stderr; everything (library warnings and tracebacks too) in the log file.

    Returns the log file's path, or None when the data folder cannot take one. Like
    logging.basicConfig, it does nothing when logging is configured already (a test harness).
    """
    root = logging.getLogger()
    if root.handlers:
        file_handlers = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
        return file_handlers[0].baseFilename if file_handlers else None
    root.setLevel(logging.INFO)
    logging.raiseExceptions = False  # a log that cannot be written (full disk) must not print a traceback
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    terminal.addFilter(_OwnMessages())
    root.addHandler(terminal)
    logging.captureWarnings(True)  # warnings.warn (pydicom's, Pillow's) become log records
    try:
        folder = user_data_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / LOG_FILE, maxBytes=2_000_000, backupCount=2,
                                                       encoding="utf-8", errors="backslashreplace")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return handler.baseFilename
