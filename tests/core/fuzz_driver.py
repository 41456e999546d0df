"""Runs a batch of fuzz jobs in ONE process and prints one JSON line per job (tests/core/test_fuzz_inputs.py).

    python -m tests.core.fuzz_driver JOBS.json

Before each job it prints {"start": name}, so a job that hangs or kills the process (a signal,
a segfault) is named by the last line. Job kinds:
  {"kind": "load", "path": P}                  core.io.loader.load_volume(P)
  {"kind": "cli", "argv": [...]}               main.main(argv), stdout/stderr captured
  {"kind": "training_case", "path": P}         core.training.data: discover_cases([P]) + load_labelled_case
  {"kind": "workspace", "path": P}             core.workspace.Workspace.open(P).cases()
Outcomes: "loaded" (with a summary of the values), "refused" (a MandibleStudioError and its
message), "exit" (the CLI's code, stdout and stderr) or "crashed" (any other exception, with its
traceback): a crash is always a defect.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import traceback

import numpy as np

from core.errors import MandibleStudioError


class _Stream(io.TextIOBase):
    """sys.stdout/stderr stand-in whose text goes to the current job's buffer (log handlers keep it)."""

    def __init__(self) -> None:
        self.buffer_text = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer_text.write(text)

    def take(self) -> str:
        text, self.buffer_text = self.buffer_text.getvalue(), io.StringIO()
        return text


def _summary(values: np.ndarray) -> dict:
    values = np.ascontiguousarray(values)
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return {"shape": list(values.shape), "dtype": str(values.dtype),
            "sha1": hashlib.sha1(values.tobytes()).hexdigest(),
            "sorted_sha1": hashlib.sha1(np.sort(values.astype(np.float64).ravel()).tobytes()).hexdigest(),
            "all_finite": bool(finite.size == values.size),
            "min": float(finite.min()) if finite.size else None, "max": float(finite.max()) if finite.size else None}


def _load(job: dict) -> dict:
    from core.io.loader import load_volume

    volume = load_volume(job["path"])
    return {**_summary(volume.hu), "warnings": volume.warnings, "spacing": list(volume.spacing),
            "spacing_known": volume.spacing_known, "patient": volume.patient.to_dict()}


def _training_case(job: dict) -> dict:
    from core.training.data import discover_cases, load_labelled_case

    (ref,) = discover_cases([job["path"]])
    case = load_labelled_case(ref)
    return {**_summary(case.volume.hu), "labels": _summary(case.labels), "warnings": []}


def _workspace(job: dict) -> dict:
    from core.workspace import Workspace

    records = Workspace.open(job["path"]).cases()
    return {"cases": [r.display_name for r in records], "warnings": []}


def _cli(job: dict, out: _Stream, err: _Stream) -> dict:
    from main import main

    try:
        code = main(job["argv"])
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    return {"outcome": "exit", "code": code, "stdout": out.take(), "stderr": err.take()}


def run_job(job: dict, out: _Stream, err: _Stream) -> dict:
    kinds = {"load": _load, "training_case": _training_case, "workspace": _workspace}
    try:
        if job["kind"] == "cli":
            return _cli(job, out, err)
        return {"outcome": "loaded", **kinds[job["kind"]](job)}
    except MandibleStudioError as exc:
        return {"outcome": "refused", "type": type(exc).__name__, "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - the point is to report it, whatever it is
        return {"outcome": "crashed", "type": type(exc).__name__, "message": str(exc),
                "traceback": traceback.format_exc()}
    finally:
        out.take()
        err.take()


def main(path: str) -> int:
    with open(path, encoding="utf-8") as fp:
        jobs = json.load(fp)
    report = sys.stdout
    out, err = _Stream(), _Stream()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for job in jobs:
            print(json.dumps({"start": job["name"]}), file=report, flush=True)
            result = run_job(job, out, err)
            print(json.dumps({"name": job["name"], **result}), file=report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
