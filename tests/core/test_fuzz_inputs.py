"""Issue 10 acceptance: a generated corpus of bad inputs, each a clean message or a correct load.

The corpus (tests/core/fuzz_corpus.py and the fuzz_cases_* modules) is built at test time and run
by tests/core/fuzz_driver.py in a child process, one batch per process, under a memory cap
(RLIMIT_AS) and a timeout: a memory bomb must be REFUSED with a message (allocating it would hit
the cap and fail the case), a hang fails on the timeout, and a segfault or other signal kills the
child, which fails every case from the one it was running on.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

# The fuzz_cases_* modules register the cases.
from tests.core import fuzz_cases_files, fuzz_cases_multiframe, fuzz_cases_volumes  # noqa: F401
from tests.core.fuzz_corpus import CASES, CATEGORIES, build_all

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)

ROOT = Path(__file__).resolve().parents[2]
GIB = 1024**3
# Address space of the child: the imports take about 0.7 GiB (torch: about 3.8 GiB more); every
# bomb in the corpus asks for more than the headroom left.
CAP = {False: 3 * GIB, True: 8 * GIB}
TIMEOUT_S = {False: 240, True: 300}  # generous: only there to stop a hang


def run_batch(root: Path, torch: bool) -> dict:
    jobs, checks = build_all(root / "inputs", torch)
    jobs_file = root / "jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    cap = CAP[torch]
    env = {**os.environ, "MANDIBLE_STUDIO_HOME": str(root / "home"), "PYTHONFAULTHANDLER": "1"}
    try:
        proc = subprocess.run([sys.executable, "-m", "tests.core.fuzz_driver", str(jobs_file)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S[torch],
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
        stdout, stderr, ending = proc.stdout, proc.stderr, f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        ending = f"a hang: killed after {TIMEOUT_S[torch]} s"
    results, started = {}, []
    for line in stdout.splitlines():
        record = json.loads(line)
        if "start" in record:
            started.append(record["start"])
        else:
            results[record["name"]] = record
    return {"results": results, "checks": checks, "started": started, "ending": ending, "stderr": stderr}


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return {torch: run_batch(tmp_path_factory.mktemp(f"fuzz-{'torch' if torch else 'io'}"), torch)
            for torch in (False, True)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_cleanly_or_loads_correctly(batches, name):
    batch = batches[CASES[name].torch]
    result = batch["results"].get(name)
    if result is None:
        last = batch["started"][-1] if batch["started"] else "(none)"
        pytest.fail(f"no result for {name}: the driver ended with {batch['ending']} while running {last}\n"
                    f"{batch['stderr'][-3000:]}")
    assert result["outcome"] != "crashed", f"{result['type']}: {result['message']}\n{result['traceback']}"
    batch["checks"][name](result)


def test_the_corpus_covers_every_category_of_the_issue():
    covered = {case.category for case in CASES.values()}
    assert covered == set(CATEGORIES), set(CATEGORIES) - covered
