"""The import contracts in pyproject.toml hold: no import cycle anywhere in gui or core, core never imports Qt
or gui, and each floor of core imports only the floors below it (docs/architecture.md)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)

TOML = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter is not installed (it comes with the [test] extra)")
    return subprocess.run([str(exe), "--config", str(config), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_every_import_contract_is_kept():
    result = _lint_imports(ROOT / "pyproject.toml", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_arrow_back_up_breaks_the_floors(tmp_path):
    """The contract really catches a lower floor importing a higher one."""
    shutil.copytree(ROOT / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "gui", tmp_path / "gui", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pyproject.toml").write_text(TOML, encoding="utf-8")
    lower = tmp_path / "core" / "annotation" / "slice_status.py"
    lower.write_text(lower.read_text(encoding="utf-8") + "\nimport core.training.trainer  # noqa\n", encoding="utf-8")
    result = _lint_imports(tmp_path / "pyproject.toml", tmp_path)
    assert result.returncode != 0
    assert "core floors BROKEN" in result.stdout


def test_an_import_cycle_in_gui_breaks_the_contract(tmp_path):
    """The contract really catches a circle (the one gui/help.py once closed with gui/app.py for APP_NAME)."""
    shutil.copytree(ROOT / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "gui", tmp_path / "gui", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pyproject.toml").write_text(TOML, encoding="utf-8")
    help_module = tmp_path / "gui" / "help.py"
    help_module.write_text(help_module.read_text(encoding="utf-8") + "\nimport gui.app  # noqa\n", encoding="utf-8")
    result = _lint_imports(tmp_path / "pyproject.toml", tmp_path)
    assert result.returncode != 0
    assert "no import cycles in gui or core BROKEN" in result.stdout
