"""The shape the house style asks of the product code: no file over 400 lines (gui/, core/, main.py)."""
from __future__ import annotations

from tests.conftest import ROOT

MAX_LINES = 400


def test_no_product_file_is_over_400_lines():
    files = [ROOT / "main.py", *sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "gui").rglob("*.py"))]
    long = {str(path.relative_to(ROOT)): n for path in files
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these files (docs/architecture.md, 'Layers'): {long}"
