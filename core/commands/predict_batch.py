"""`main.py predict` over many CTs: which cases, which are still to do, one model for all, a summary at the end.

    main.py predict CT CT ... --out DIR       several CTs
    main.py predict --cases FOLDER --out DIR   every CT in FOLDER: each subfolder, NIfTI file or multi-frame DICOM file
    main.py predict --list FILE --out DIR      one CT per line (blank lines and # comments are skipped)

Each case goes to DIR/<case name>/ exactly as a one-CT predict writes DIR/, its mask last: a case whose mask is
there is done, and a rerun skips it unless --overwrite. A case that fails is reported and the others go on;
the summary table names it and the exit status is 1. `cases_to_do` is the one list of work (a distributed
run takes its share of it).
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import Cancelled, InputError, MandibleStudioError
from core.io.dicom import read_file_headers
from core.io.files import is_regular_file, require_regular_file

log = logging.getLogger(__name__)

MASK_NAME = "mandible_mask.nii.gz"
_NIFTI = (".nii", ".nii.gz")


@dataclass(frozen=True)
class BatchCase:
    """One CT of a batch and the folder under --out its prediction goes to."""

    name: str
    input: Path

    def out(self, root: Path) -> Path:
        return root / self.name


@dataclass(frozen=True)
class CaseOutcome:
    """What became of one case: "done", "skipped" (done before) or "failed", with what a person needs to know."""

    case: BatchCase
    status: str
    slices: int = 0
    with_mandible: int = 0
    seconds: float = 0.0
    message: str = ""


# -- which cases ---------------------------------------------------------------------------------------
def batch_inputs(paths: list[Path], cases_folder: Path | None, list_file: Path | None) -> list[Path]:
    """Every CT named on the command line, in order, each once."""
    inputs = list(paths)
    if cases_folder is not None:
        inputs += cases_in_folder(cases_folder)
    if list_file is not None:
        inputs += cases_in_list(list_file)
    unique = {str(path.expanduser().absolute()): path for path in inputs}
    return list(unique.values())


def cases_in_folder(folder: Path) -> list[Path]:
    """The CTs in a folder of studies: each subfolder, NIfTI file and multi-frame DICOM file is one case."""
    if not folder.is_dir():
        raise InputError(f"--cases {folder} is not a folder; give the folder that holds one folder or file per CT")
    cases, slices = [], []
    for entry in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if entry.is_dir() or entry.name.lower().endswith(_NIFTI):
            cases.append(entry)
        elif is_regular_file(entry) and _has_preamble(entry):
            (cases if _frames(entry) > 1 else slices).append(entry)
    if slices:
        raise InputError(f"--cases {folder} holds DICOM slices itself ({slices[0].name} and "
                         f"{len(slices) - 1} more), so it is one CT: give it without --cases")
    if not cases:
        raise InputError(f"--cases {folder} holds no CT: put one folder (DICOM series, images) or file "
                         "(NIfTI, multi-frame DICOM) per case in it")
    return cases


def cases_in_list(list_file: Path) -> list[Path]:
    """The CTs a list file names, one per line; relative paths are taken from the list file's folder."""
    require_regular_file(list_file, "a text file with one CT path per line")
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"--list {list_file} is not a UTF-8 text file; write one CT path per line") from exc
    paths = [Path(line.strip()) for line in lines if line.strip() and not line.strip().startswith("#")]
    if not paths:
        raise InputError(f"--list {list_file} names no CT; write one CT path per line")
    return [path if path.is_absolute() else list_file.parent / path for path in paths]


def _has_preamble(path: Path) -> bool:
    with open(path, "rb") as fp:
        return fp.read(132)[128:132] == b"DICM"


def _frames(path: Path) -> int:
    headers = read_file_headers(path)
    return 1 if isinstance(headers, str) else headers[0].frames


def batch_cases(inputs: list[Path]) -> list[BatchCase]:
    """A folder name per CT, from its own name; CTs of the same name each get a short hash of their path."""
    names = [_folder_name(path) for path in inputs]
    taken = {name: names.count(name) for name in names}
    return [BatchCase(name if taken[name] == 1 else f"{name}-{_path_hash(path)}", path)
            for name, path in zip(names, inputs)]


def _folder_name(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii", ".dcm"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:60] or "case"


def _path_hash(path: Path) -> str:
    return hashlib.sha1(str(path.expanduser().absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def is_done(case: BatchCase, out: Path) -> bool:
    """True when the case's mask is under `out` (it is written last)."""
    return (case.out(out) / MASK_NAME).exists()


def cases_to_do(cases: list[BatchCase], out: Path, overwrite: bool) -> list[BatchCase]:
    """The cases still to predict: those without a mask under `out`, or every case with `overwrite`."""
    return [case for case in cases if overwrite or not is_done(case, out)]


# -- one case, isolated ------------------------------------------------------------------------------
CaseRun = Callable[[BatchCase], tuple[int, int]]  # segments one case: (slices, slices with mandible)


def run_case(case: BatchCase, segment: CaseRun) -> CaseOutcome:
    """Segment one case; any failure becomes a "failed" outcome with its reason (Ctrl+C and cancel stop the batch)."""
    start = time.perf_counter()
    try:
        slices, with_mandible = segment(case)
    except Cancelled:
        raise
    except MandibleStudioError as exc:
        message = str(exc)
    except OSError as exc:
        message = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    except MemoryError:
        message = "not enough memory for this CT"
    except Exception as exc:  # a defect: the details to the log file, one line to the table
        logging.getLogger("mandible_studio").error("unexpected failure on %s\n%s", case.input, traceback.format_exc())
        message = f"internal error ({exc.__class__.__name__}: {exc}); the details are in the log"
    else:
        return CaseOutcome(case, "done", slices, with_mandible, time.perf_counter() - start)
    log.warning("%s failed: %s", case.name, message)
    return CaseOutcome(case, "failed", seconds=time.perf_counter() - start, message=message)
