"""Mandible Studio: start the desktop app (no arguments) or run a headless command.

    python main.py                     the app, on the bundled sample case
    python main.py [FILE_OR_FOLDER]    the app, opening that CT
    python main.py --smoke-test        open the sample offscreen, predict, write one Labelme JSON, exit
    python main.py convert ...         CT (+ labels) -> Labelme dataset
    python main.py train|predict|evaluate|export ...
"""
from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import sys

# Each headless command lives in core/commands/<name>.py and exposes
# add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "convert": "Write a CT (and its labels) as PNG slices with Labelme JSON",
    "train": "Train the residual-CBAM U-Net (two-stage transfer schedule)",
    "predict": "Segment the mandible in a CT with a model file",
    "evaluate": "Measure a model on labelled data; prints one JSON line",
    "export": "Export the mandible as STL/PLY/OBJ mesh, NIfTI or DICOM SEG",
}


def _command_module(name: str):
    return importlib.import_module(f"core.commands.{name}")


def _run_command(argv: list[str]) -> int:
    """Run one headless command; only that command's module is imported."""
    from core.errors import MandibleStudioError

    name, rest = argv[0], argv[1:]
    module = _command_module(name)
    parser = argparse.ArgumentParser(prog=f"mandible-studio {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        return int(module.run(args) or 0)
    except MandibleStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _usage() -> str:
    lines = [__doc__.strip(), "", "commands:"]
    lines += [f"  {name:<10}{help_text}" for name, help_text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # Training runs in a child process (gui/ai/training_process.py); in an installed (frozen)
    # build the child is this same program, and freeze_support lets it act as the child.
    multiprocessing.freeze_support()
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
