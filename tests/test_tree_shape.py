"""The shape the house style asks of the tree: no product file over 400 lines (gui/, core/, main.py); tests
import their helpers from tests/support/ (never from a conftest.py or another test module), and each fixture
name has one meaning (one definition); the GUI reaches the open case through CaseSession only."""
from __future__ import annotations

import ast
import re
from collections import defaultdict

from tests.support.paths import ROOT

MAX_LINES = 400
TESTS = ROOT / "tests"


def test_no_product_file_is_over_400_lines():
    files = [ROOT / "main.py", *sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "gui").rglob("*.py"))]
    long = {str(path.relative_to(ROOT)): n for path in files
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these files (docs/architecture.md, 'Layers'): {long}"


def test_the_gui_reaches_the_open_case_only_through_case_session():
    """CaseSession is the one door (issue 20): no other GUI module holds the OpenCase behind it."""
    door = ROOT / "gui" / "case_session.py"
    reaching = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "gui").rglob("*.py")) if path != door
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if re.search(r"session\.case\b", line)]
    assert not reaching, f"ask CaseSession instead (gui/case_session.py): {reaching}"


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
