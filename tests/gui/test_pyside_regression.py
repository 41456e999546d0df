"""PySide6 6.12.0 aborts CPython 3.11 with 'none_dealloc' after many calls of void Qt methods.

The pin in pyproject.toml keeps PySide6 below 6.12; these tests fail if a broken version slips in.
"""
from __future__ import annotations

import subprocess
import sys

import PySide6
import pytest

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)
CALLS = 5000

SCRIPT = f"""
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
widget = QWidget()
for i in range({CALLS}):
    widget.setToolTip("tip")       # returns None: each call drops a reference to Py_None
    widget.setObjectName("w")
print("ok", {CALLS})
"""


def test_void_qt_calls_do_not_abort_the_interpreter():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == f"ok {CALLS}"


def test_pyside6_is_below_the_broken_6_12():
    major, minor = (int(p) for p in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), f"PySide6 {PySide6.__version__} is known to abort on CPython 3.11"
