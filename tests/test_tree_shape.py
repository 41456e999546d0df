"""The shape the house style asks of the tree: no product file over 400 lines (gui/, core/, main.py); tests
import their helpers from tests/support/ (never from a conftest.py or another test module), and each fixture
name has one meaning (one definition)."""
from __future__ import annotations

import ast
from collections import defaultdict

from tests.support.paths import ROOT

MAX_LINES = 400
TESTS = ROOT / "tests"


def test_no_product_file_is_over_400_lines():
    files = [ROOT / "main.py", *sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "gui").rglob("*.py"))]
    long = {str(path.relative_to(ROOT)): n for path in files
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these files (docs/architecture.md, 'Layers'): {long}"


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_tests_import_helpers_from_tests_support_only():
    wrong = {}
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad = [m for m in _imported_modules(tree) if m.startswith("tests.") and
               (m.rsplit(".", 1)[-1] == "conftest" or m.rsplit(".", 1)[-1].startswith("test_"))]
        if bad:
            wrong[str(path.relative_to(ROOT))] = bad
    assert not wrong, f"move what these import into tests/support/ (docs/architecture.md, 'Tests'): {wrong}"


def test_each_fixture_name_is_defined_once():
    where = defaultdict(list)
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and any(
                    "fixture" in ast.unparse(d) for d in node.decorator_list):
                where[node.name].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    twice = {name: places for name, places in where.items() if len(places) > 1}
    assert not twice, f"one name, one meaning: rename or share these fixtures: {twice}"
