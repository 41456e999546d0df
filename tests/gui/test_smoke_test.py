"""The installed build is checked with `--smoke-test`; CI checks the same path from source,
and that the PyInstaller spec still points at things that exist."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys

from core.io.slice_export import slice_stem
from tests.conftest import ROOT

SPEC = ROOT / "installer" / "mandible_studio.spec"


def test_smoke_test_from_another_folder_writes_a_labelme_json(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MANDIBLE_STUDIO_HOME"}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--smoke-test"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["case"] == "okbp_pt_224" and report["slices"] == 128
    assert report["labelme_json"] == f"{slice_stem(report['slice'])}.json" and report["mask_pixels"] > 0
    assert list(tmp_path.iterdir()) == [], "the smoke test must not write into the working folder"


def test_spec_names_files_and_distributions_that_exist():
    tree = ast.parse(SPEC.read_text())
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    for relative in ("main.py", "resources", "resources/branding/mandible-studio.png",
                     "resources/branding/mandible-studio.ico", "resources/samples/okbp_pt_224"):
        assert (ROOT / relative).exists(), relative
    assert {"main.py", "resources", "mandible-studio.ico", "mandible-studio.png"} <= strings
    copied = [s for s in strings if "." not in s and s.startswith(("pydicom", "pylibjpeg", "highdicom", "nibabel", "trimesh"))]
    for dist in copied:
        importlib.metadata.distribution(dist)  # raises PackageNotFoundError when a name goes stale
    assert "pylibjpeg-libjpeg" in copied and "pylibjpeg-openjpeg" in copied


def test_build_scripts_offer_both_variants_and_run_the_smoke_test():
    for script in (ROOT / "installer" / "build.sh", ROOT / "installer" / "build.ps1"):
        text = script.read_text()
        assert "cpu" in text and "cuda" in text and "--smoke-test" in text, script
    assert os.access(ROOT / "installer" / "build.sh", os.X_OK)
