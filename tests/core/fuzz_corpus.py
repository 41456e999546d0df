"""A corpus of bad inputs, generated at test time (nothing is committed as data), and what each must give.

Every input is built by a function registered with @fuzz_case(category); it writes its files under
the folder it is given and returns a FuzzInput: the job for tests/core/fuzz_driver.py and a check of
the driver's result. A bad input must end as a clean refusal (a MandibleStudioError; in the CLI exit 2
and a last stderr line "error: ...") or as a correct load whose values are verified, never as a crash,
a hang, a signal or an exit 0 with garbage.

To add cases (for example model files in core/model): write a builder in any module imported by
tests/core/test_fuzz_inputs.py,

    @fuzz_case("model-file", torch=True)
    def tampered_metadata(root: Path) -> FuzzInput:
        model = ...                                   # write the bad file under root
        return FuzzInput(cli("predict", str(ct_nifti(root)), "--model", str(model), "--out", str(root / "o")),
                         refused("modified"))

`torch=True` runs it in the batch that may import torch (a higher memory cap).
"""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nibabel as nib
import numpy as np
import PIL.Image

from tests.support.dicom import copy_sample_series

Check = Callable[[dict], None]


@dataclass
class FuzzInput:
    job: dict  # what tests/core/fuzz_driver.py runs
    check: Check  # asserts on the driver's result for this job


@dataclass(frozen=True)
class FuzzCase:
    name: str
    category: str
    build: Callable[[Path], FuzzInput]
    torch: bool = False


CASES: dict[str, FuzzCase] = {}
# Issue 10, "What was seen" 5: every one of these must have cases.
CATEGORIES = ("hang", "segfault", "garbage", "memory-bomb", "output", "image", "dicom-geometry", "nifti",
              "json-and-cases", "transfer-syntax", "model-file")


def fuzz_case(category: str, torch: bool = False):
    """Register a builder `f(root) -> FuzzInput` under its function name."""
    assert category in CATEGORIES, category

    def register(build: Callable[[Path], FuzzInput]) -> Callable[[Path], FuzzInput]:
        assert build.__name__ not in CASES, f"two fuzz cases named {build.__name__}"
        CASES[build.__name__] = FuzzCase(build.__name__, category, build, torch)
        return build

    return register


# -- jobs ------------------------------------------------------------------------------------------
def load(path: Path | str) -> dict:
    return {"kind": "load", "path": str(path)}


def cli(*argv: str) -> dict:
    return {"kind": "cli", "argv": [str(a) for a in argv]}


def training_case(path: Path | str) -> dict:
    return {"kind": "training_case", "path": str(path)}


def workspace_cases(path: Path | str) -> dict:
    return {"kind": "workspace", "path": str(path)}


# -- checks ----------------------------------------------------------------------------------------
def refused(pattern: str) -> Check:
    """A clean refusal whose message matches `pattern` (regex, case-insensitive)."""

    def check(result: dict) -> None:
        if result["outcome"] == "exit":
            lines = [line for line in result["stderr"].splitlines() if line.strip()]
            assert result["code"] == 2, f"exit {result['code']}, stderr: {result['stderr'][-800:]}"
            assert "Traceback" not in result["stderr"], result["stderr"]
            assert lines and lines[-1].startswith("error: "), result["stderr"]
            message = lines[-1]
        else:
            assert result["outcome"] == "refused", result
            message = result["message"]
        assert re.search(pattern, message, re.IGNORECASE), f"{pattern!r} not in: {message}"

    return check


def loaded(warning: str | None = None, extra: Check | None = None, **expected) -> Check:
    """A load whose summary has the `expected` fields, a warning matching `warning`, then `extra`."""

    def check(result: dict) -> None:
        assert result["outcome"] == "loaded", result
        for key, value in expected.items():
            assert result[key] == value, f"{key}: {result[key]!r} != {value!r}"
        if warning is not None:
            assert any(re.search(warning, w, re.IGNORECASE) for w in result["warnings"]), result["warnings"]
        if extra is not None:
            extra(result)

    return check


def refused_or_same(pattern: str, reference: dict) -> Check:
    """Damage that may miss the data (a gzip header byte): a refusal, or exactly the undamaged values."""

    def check(result: dict) -> None:
        if result["outcome"] == "loaded":
            assert result["sha1"] == reference["sha1"], "damaged file loaded with other values"
        else:
            refused(pattern)(result)

    return check


def cli_succeeded(extra: Check | None = None) -> Check:
    def check(result: dict) -> None:
        assert result["outcome"] == "exit" and result["code"] == 0, result
        assert "Traceback" not in result["stderr"], result["stderr"]
        if extra is not None:
            extra(result)

    return check


# -- inputs the cases start from ---------------------------------------------------------------------
def values_summary(values: np.ndarray) -> dict:
    """The driver's summary fields for an array (fuzz_driver._summary), to compare a load against."""
    values = np.ascontiguousarray(values)
    return {"shape": list(values.shape), "sha1": hashlib.sha1(values.tobytes()).hexdigest()}


def sorted_values(values: np.ndarray) -> str:
    """A digest of the values regardless of orientation (loads reorient; the values must not change)."""
    return hashlib.sha1(np.sort(np.asarray(values, np.float64).ravel()).tobytes()).hexdigest()


def ct_array() -> np.ndarray:
    """A small CT as NIfTI stores it [x, y, z]: air around a block of bone."""
    hu = np.full((24, 20, 4), -1000, np.int16)
    hu[6:18, 5:15, :] = 700
    return hu


def ct_nifti(root: Path, name: str = "ct.nii.gz", data: np.ndarray | None = None, affine=None) -> Path:
    path = root / name
    data = ct_array() if data is None else data
    nib.save(nib.Nifti1Image(data, np.diag([-2.0, -2.0, 3.0, 1.0]) if affine is None else affine), path)
    return path


def labels_nifti(root: Path, name: str = "labels.nii.gz") -> Path:
    labels = (ct_array() > 0).astype(np.uint8)
    return ct_nifti(root, name, labels)


def sample_series(root: Path, name: str = "series", count: int = 3) -> Path:
    folder = root / name
    copy_sample_series(folder, count)
    return folder


def png(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(pixels).save(path)
    return path


def copy_tree(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


def build_all(root: Path, torch: bool) -> tuple[list[dict], dict[str, Check]]:
    """Build every case of one batch under `root`: (driver jobs, checks by name)."""
    jobs, checks = [], {}
    for case in CASES.values():
        if case.torch != torch:
            continue
        folder = root / case.name
        folder.mkdir(parents=True)
        made = case.build(folder)
        jobs.append({"name": case.name, **made.job})
        checks[case.name] = made.check
    return jobs, checks
