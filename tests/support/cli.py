"""`main.py` run as a user runs it: a fresh interpreter with its own data folder."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def run_cli(tmp_path: Path, *argv, env=None, preexec_fn=None, timeout=300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MANDIBLE_STUDIO_HOME": str(tmp_path / "home"), **(env or {})}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, argv)], cwd=ROOT, env=environment,
                          capture_output=True, timeout=timeout, preexec_fn=preexec_fn)
