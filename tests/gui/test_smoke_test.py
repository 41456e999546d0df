"""The installed build is checked with `--smoke-test`; CI checks the same path from source, that the PyInstaller
spec still points at things that exist, and, by evaluating the spec in-process, that it collects every compiled
file of torch and torchvision and the starter model (no full build needed)."""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from core.io.slice_export import slice_stem
from core.model.model_file import starter_model
from tests.support.paths import ROOT

SPEC = ROOT / "installer" / "mandible_studio.spec"


@pytest.mark.process
def test_smoke_test_from_another_folder_writes_a_labelme_json(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MANDIBLE_STUDIO_HOME"}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--smoke-test"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["case"] == "okbp_pt_224" and report["slices"] == 128
    assert report["model"] == starter_model().name and report["dice"] >= 0.5  # the bundled starter predicted
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


def _evaluate_spec(monkeypatch) -> dict:
    """Run the spec as PyInstaller would, with its build steps recorded instead of run: Analysis's arguments."""
    recorded: dict = {}
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = hooks.copy_metadata = lambda name: []
    hooks.collect_data_files = lambda name: recorded.setdefault("data_of", []).append(name) or []
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec puts installer/ on it
    monkeypatch.delitem(sys.modules, "compiled_extensions", raising=False)

    def analysis(scripts, **kwargs):
        recorded.update(kwargs)
        return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])

    def step(*args, **kwargs):
        return None

    namespace = {"SPECPATH": str(SPEC.parent), "Analysis": analysis, "PYZ": step, "EXE": step, "COLLECT": step}
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    sys.modules.pop("compiled_extensions", None)
    return recorded


def _compiled_files_on_disk(package: str) -> set[Path]:
    root = Path(importlib.util.find_spec(package).origin).parent
    return {Path(package) / p.relative_to(root) for p in root.rglob("*")
            if p.is_file() and (p.suffix in (".so", ".pyd", ".dll", ".dylib") or ".so." in p.name)}


def test_spec_collects_every_compiled_file_of_torch_torchvision_and_openvino(monkeypatch):
    binaries = _evaluate_spec(monkeypatch)["binaries"]
    bundled = {Path(folder) / Path(source).name for source, folder in binaries}
    for package in ("torch", "torchvision", "openvino"):  # OpenVINO's CPU plugin is loaded by file name
        on_disk = _compiled_files_on_disk(package)
        assert on_disk, f"no compiled files found in the installed {package}"
        missing = sorted(str(path) for path in on_disk - bundled)
        assert not missing, f"the installer would leave these out: {missing}"
    # The two that a clean build lost ("operator torchvision::nms does not exist"):
    assert {Path("torchvision/_C_stable.so"), Path("torchvision/image_stable.so")} <= bundled or os.name == "nt"


def test_spec_bundles_the_starter_model_by_default_or_the_one_given(monkeypatch, tmp_path):
    datas = _evaluate_spec(monkeypatch)["datas"]
    models = [(Path(source), folder) for source, folder in datas if folder == "resources/models"]
    assert models == [(ROOT / "resources" / "models", "resources/models")]
    assert starter_model().parent == models[0][0]
    other = tmp_path / "better.msmodel"
    monkeypatch.setenv("MANDIBLE_STARTER_MODEL", str(other))  # build.sh --model FILE
    datas = _evaluate_spec(monkeypatch)["datas"]
    assert [(s, f) for s, f in datas if f == "resources/models"] == [(str(other), "resources/models")]
    assert all(not s.startswith(str(ROOT / "resources" / "models")) for s, _ in datas)


def test_spec_bundles_what_the_3d_view_loads_at_run_time(monkeypatch):
    analysis = _evaluate_spec(monkeypatch)
    assert "vispy" in analysis["data_of"], "vispy's shaders are data files"
    assert "vispy.app.backends._pyside6" in analysis["hiddenimports"], "vispy imports its Qt backend by name"
