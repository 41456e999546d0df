"""Every benchmark script still loads against today's code: its imports resolve (a renamed API breaks a benchmark
long before anyone reruns it). Loading runs only the module's top level, never its main()."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_benchmark_script_loads(script, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # scripts put the repository root on it
    monkeypatch.setattr(sys, "argv", [str(script)])
    spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
