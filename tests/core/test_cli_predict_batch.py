"""Issue 22 item 4: `main.py predict` over many CTs. One model load, a bar, a summary table; a failing case is
reported and the rest go on; the exit status says whether any failed; a rerun skips what is done."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.commands.predict_batch import (BatchCase, batch_cases, batch_inputs, cases_in_folder, cases_to_do,
                                         run_case)
from core.errors import InputError
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels
from tests.support.cases import small_ct
from tests.support.cli import run_cli
from tests.support.paths import SAMPLE_DIR
from tests.support.multiframe import legacy_converted

CASES = ("ana", "ben", "carla", "dev")


def studies(root: Path) -> Path:
    """Five studies, one corrupt (a NIfTI file cut in half)."""
    folder = root / "studies"
    for n, name in enumerate(CASES):
        small_ct(folder / f"{name}.nii.gz", 70 + 2 * n)
    good = (folder / "ana.nii.gz").read_bytes()
    (folder / "corrupt.nii.gz").write_bytes(good[: len(good) // 2])
    return folder


def _table_rows(stdout: str) -> dict[str, str]:
    """{case: its table row} from the summary table."""
    names = (*CASES, "corrupt")
    return {name: line for line in stdout.splitlines() for name in names if f" {name} " in line}


@pytest.mark.process
@pytest.mark.slow
def test_five_cases_one_corrupt_then_a_rerun_skips_the_four(tmp_path):
    out = tmp_path / "out"
    done = run_cli(tmp_path, "predict", "--cases", studies(tmp_path), "--out", out, "--device", "cpu", timeout=600)
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr
    rows = _table_rows(stdout)
    assert all(" done " in rows[name] for name in CASES), stdout
    assert " failed " in rows["corrupt"] and "corrupt.nii.gz" in stdout, stdout
    assert stdout.strip().splitlines()[-1] == "4 done, 0 skipped (done before), 1 failed: corrupt"
    for name in CASES:  # each case as a one-CT predict writes it
        ct = load_volume(tmp_path / "studies" / f"{name}.nii.gz")
        assert load_nifti_labels(out / name / "mandible_mask.nii.gz", ct).shape == ct.shape
        assert len(list((out / name).glob("*.json"))) == len(list((out / name).glob("*.png"))) == 4
    assert not (out / "corrupt" / "mandible_mask.nii.gz").exists()
    written = {name: (out / name / "mandible_mask.nii.gz").stat().st_mtime_ns for name in CASES}

    again = run_cli(tmp_path, "predict", "--cases", tmp_path / "studies", "--out", out, "--device", "cpu")
    rows = _table_rows(again.stdout.decode())
    assert again.returncode == 1
    assert all(" skipped " in rows[name] for name in CASES) and " failed " in rows["corrupt"]
    assert {name: (out / name / "mandible_mask.nii.gz").stat().st_mtime_ns for name in CASES} == written


@pytest.mark.process
@pytest.mark.slow
def test_several_paths_all_good_exit_0_and_overwrite_segments_again(tmp_path):
    paths = [small_ct(tmp_path / "in" / f"{name}.nii.gz", 72) for name in CASES[:2]]
    out = tmp_path / "out"
    assert run_cli(tmp_path, "predict", *paths, "--out", out, "--device", "cpu").returncode == 0
    before = (out / "ana" / "mandible_mask.nii.gz").stat().st_mtime_ns
    again = run_cli(tmp_path, "predict", *paths, "--out", out, "--device", "cpu", "--overwrite")
    assert again.returncode == 0 and again.stdout.decode().strip().endswith("2 done, 0 skipped (done before), 0 failed")
    assert (out / "ana" / "mandible_mask.nii.gz").stat().st_mtime_ns != before


def test_a_list_file_names_cases_relative_to_itself_and_skips_comments(tmp_path):
    (tmp_path / "lists").mkdir()
    listing = tmp_path / "lists" / "cases.txt"
    listing.write_text("# past cases\n../a/ct.nii.gz\n\n/elsewhere/b\n  ../a/ct.nii.gz  \n", encoding="utf-8")
    inputs = batch_inputs([], None, listing)
    assert inputs == [tmp_path / "lists" / "../a/ct.nii.gz", Path("/elsewhere/b")]  # each once


def test_a_folder_of_studies_gives_its_subfolders_nifti_and_multi_frame_files(tmp_path):
    folder = tmp_path / "studies"
    (folder / "patient 1").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "notes.txt").write_text("not a CT")
    small_ct(folder / "p2.nii.gz", 70)
    legacy_converted(SAMPLE_DIR, folder / "p3.dcm", count=3)
    assert [p.name for p in cases_in_folder(folder)] == ["p2.nii.gz", "p3.dcm", "patient 1"]
    assert [c.name for c in batch_cases(cases_in_folder(folder))] == ["p2", "p3", "patient_1"]


def test_a_series_folder_given_as_studies_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(InputError, match="holds DICOM slices itself .* so it is one CT: give it without --cases"):
        cases_in_folder(SAMPLE_DIR)
    with pytest.raises(InputError, match="holds no CT"):
        cases_in_folder(tmp_path)


def test_cases_of_the_same_name_get_folders_of_their_own(tmp_path):
    cases = batch_cases([tmp_path / "a" / "ct.nii.gz", tmp_path / "b" / "ct.nii.gz", tmp_path / "c" / "jaw"])
    names = [c.name for c in cases]
    assert len(set(names)) == 3 and names[2] == "jaw" and all(n.startswith("ct-") for n in names[:2])
    assert [c.name for c in batch_cases([tmp_path / "b" / "ct.nii.gz", tmp_path / "a" / "ct.nii.gz"])] == \
        names[1::-1], "a name does not depend on the order of the cases"


def test_cases_to_do_are_those_without_a_mask_unless_overwrite(tmp_path):
    cases = [BatchCase(name, tmp_path / name) for name in CASES]
    (tmp_path / "out" / "ben").mkdir(parents=True)
    (tmp_path / "out" / "ben" / "mandible_mask.nii.gz").write_bytes(b"done")
    (tmp_path / "out" / "carla").mkdir()  # started, never finished: to do again
    assert [c.name for c in cases_to_do(cases, tmp_path / "out", overwrite=False)] == ["ana", "carla", "dev"]
    assert cases_to_do(cases, tmp_path / "out", overwrite=True) == cases


def test_a_failing_case_becomes_an_outcome_with_its_reason(tmp_path):
    case = BatchCase("x", tmp_path / "x")

    def broken(_case):
        raise InputError("x is not a CT; open a DICOM folder")

    def defect(_case):
        raise KeyError("slice")

    assert run_case(case, broken).message == "x is not a CT; open a DICOM folder"
    outcome = run_case(case, defect)
    assert outcome.status == "failed" and "internal error (KeyError" in outcome.message
    assert run_case(case, lambda _case: (4, 3)).status == "done"


@pytest.mark.process
def test_series_uid_with_several_cases_is_refused_before_the_model_loads(tmp_path):
    done = run_cli(tmp_path, "predict", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "out",
                   "--series-uid", "1.2.3", "--model", tmp_path / "no-such.msmodel")
    assert done.returncode == 2 and b"--series-uid chooses the series of one CT" in done.stderr
    assert not os.path.exists(tmp_path / "out")
