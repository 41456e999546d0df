"""core must work without a screen: importing every core module pulls in neither PySide6 nor gui."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)

PROBE = """
import importlib, pkgutil, sys
import core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")]
for name in names:
    importlib.import_module(name)
offending = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "gui"))
print(len(names), offending)
assert not offending, offending
"""


def test_core_imports_no_qt_and_no_gui():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(result.stdout.split()[0])
    assert count >= 10  # the walk really found the core modules
