"""Every compiled file of torch, torchvision and OpenVINO, for the PyInstaller spec (docs/decisions/113).

torchvision 0.29 loads its operators from `torchvision/_C_stable.so` and `image_stable.so` with
`torch.ops.load_library`, not by import, so PyInstaller's analysis never sees them and the bundle
had no torchvision operators ("operator torchvision::nms does not exist"). OpenVINO finds its CPU plugin and
its PyTorch front end by file name beside libopenvino (openvino/libs), never by import. The spec therefore
collects every compiled file of these packages explicitly, at its own path inside the package
(where torch and torchvision look for it). Plain Python: tests check it without PyInstaller.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGES = ("torch", "torchvision", "openvino")
SUFFIXES = (".so", ".pyd", ".dll", ".dylib")


def is_compiled(name: str) -> bool:
    """A shared library or extension module: x.so, x.so.1, x.cpython-311-x86_64-linux-gnu.so, x.pyd, x.dll."""
    return name.endswith(SUFFIXES) or ".so." in name


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise SystemExit(f"error: {package} is not installed in the build environment; pip install it first")
    return Path(spec.origin).parent


def compiled_binaries(packages: tuple[str, ...] = PACKAGES) -> list[tuple[str, str]]:
    """PyInstaller `binaries` entries: (file, folder in the bundle) for each compiled file of `packages`."""
    entries = []
    for package in packages:
        root = package_dir(package)
        for path in sorted(root.rglob("*")):
            if path.is_file() and is_compiled(path.name):
                entries.append((str(path), str(Path(package) / path.parent.relative_to(root))))
    return entries
