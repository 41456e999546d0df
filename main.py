"""Mandible Studio: start the desktop app (no arguments) or run a headless command.

    python main.py                     the app, on the case worked on last (the sample on a first start)
    python main.py [FILE_OR_FOLDER]    the app, opening that CT
    python main.py --smoke-test        open the sample offscreen, predict, write one Labelme JSON, exit
    python main.py convert ...         CT (+ labels) -> Labelme dataset
    python main.py train|predict|evaluate|export ...
"""
from __future__ import annotations

import argparse
import codecs
import importlib
import logging
import multiprocessing
import sys
import traceback

# Each headless command lives in core/commands/<name>.py and exposes
# add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "convert": "Write a CT (and its labels) as PNG slices with Labelme JSON",
    "train": "Train the residual-CBAM U-Net (two-stage transfer schedule)",
    "predict": "Segment the mandible in a CT with a model file",
    "evaluate": "Measure a model on labelled data; prints one JSON line",
    "export": "Export the mandible as STL/PLY/OBJ mesh, NIfTI or DICOM SEG, or a case as a Labelme dataset",
}


def _command_module(name: str):
    return importlib.import_module(f"core.commands.{name}")


def _escape_unprintable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte of a non-UTF-8 file name (a surrogate escape) prints as \\xe9, anything
    else the terminal cannot show as a backslash escape."""
    text = error.object[error.start:error.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                   else c.encode("ascii", "backslashreplace").decode("ascii") for c in text), error.end


def _tolerant_output() -> None:
    """A file name that is not valid UTF-8 is printed with escapes, never a UnicodeEncodeError."""
    codecs.register_error("mandible-escape", _escape_unprintable)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="mandible-escape")


def _error(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _run_command(argv: list[str]) -> int:
    """Run one headless command; only that command's module is imported."""
    from core.errors import MandibleStudioError

    name, rest = argv[0], argv[1:]
    module = _command_module(name)
    parser = argparse.ArgumentParser(prog=f"mandible-studio {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    from core.app_logging import configure_logging

    log_file = configure_logging()
    try:
        return int(module.run(args) or 0)
    except MandibleStudioError as exc:
        return _error(str(exc))
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _error(f"{exc.strerror or exc}{where}; check the path, the free disk space and your permissions")
    except MemoryError:
        return _error("not enough memory for this input; close other programs or use a smaller scan")
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except Exception as exc:  # a defect, not bad input: details to the log, one line to the user
        logging.getLogger("mandible_studio").error("unexpected failure\n%s", traceback.format_exc())
        return _error(f"internal error ({exc.__class__.__name__}: {exc}); the details are in "
                      f"{log_file or 'the log'}. Please report it.", 1)


def _usage() -> str:
    lines = [__doc__.strip(), "", "commands:"]
    lines += [f"  {name:<10}{help_text}" for name, help_text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # Training runs in a child process (gui/ai/training_process.py); in an installed (frozen)
    # build the child is this same program, and freeze_support lets it act as the child.
    multiprocessing.freeze_support()
    _tolerant_output()
    from core.process_memory import keep_large_blocks_mapped

    keep_large_blocks_mapped()  # before any thread: a big scan's freed slices go back to the system
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return _run_command(argv)
    if argv and argv[0] == "--smoke-test":
        from gui.smoke_test import run_smoke_test

        return run_smoke_test()
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
