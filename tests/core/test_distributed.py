"""Training and predicting in several processes (issue 22 item 5): shares by rank, and `main.py train` under torchrun
with gloo and two CPU processes on a small network, interrupted and resumed, writing one valid model."""
from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.errors import InputError
from core.model.model_file import load_model
from core.ranks import Ranks, ranks_from_environment, shard
from core.training.checkpoint import checkpoint_path
from core.training.config import TrainingConfig
from core.training.slices import DeviceSlices, SliceSet, steps_per_epoch, training_batches
from tests.support.paths import ROOT
from tests.support.cases import nnunet_folder

RUN_TIMEOUT_S = 1200  # only stops a hang (two processes on a loaded 2-core machine)


@pytest.mark.parametrize("count, world", [(7, 2), (10, 3), (2, 4), (0, 2)])
def test_shards_hold_every_item_once_and_differ_by_at_most_one(count, world):
    items = [f"case{n}" for n in range(count)]
    shares = [shard(items, Ranks(rank, world)) for rank in range(world)]
    assert sorted(sum(shares, [])) == sorted(items)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_ranks_come_from_torchrun_s_environment():
    assert ranks_from_environment({}) == Ranks(0, 1, 0) and not Ranks().distributed
    ranks = ranks_from_environment({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (ranks.rank, ranks.world, ranks.local_rank, ranks.is_main) == (3, 4, 1, False)
    for bad in ({"RANK": "4", "WORLD_SIZE": "4"}, {"WORLD_SIZE": "two"}):
        with pytest.raises(InputError, match="torchrun"):
            ranks_from_environment(bad)


def test_each_process_trains_on_its_own_equal_share_of_the_epoch():
    count, batch = 13, 2
    slices = DeviceSlices.place(SliceSet(torch.arange(count, dtype=torch.int16).view(count, 1, 1).expand(
        count, 32, 32).numpy().copy(), torch.zeros(count, 32, 32, dtype=torch.uint8).numpy(),
        torch.zeros(count, dtype=torch.int64).numpy(), ["a"]), torch.device("cpu"))
    model = TrainingConfig(data=[], out="", input_size=64).model_config()
    seen = []
    for rank in range(2):
        ranks = Ranks(rank, 2)
        rows = [int(v) for hu, _, _ in training_batches(slices, model, batch, 0, 3, None, torch.device("cpu"), ranks)
                for v in hu[:, 0, 0, 0]]
        assert len(rows) == count // 2 and -(-len(rows) // batch) == steps_per_epoch(count, batch, ranks)
        seen.append(rows)
    assert not set(seen[0]) & set(seen[1])  # no slice twice in one epoch
    alone = [int(v) for hu, _, _ in training_batches(slices, model, batch, 0, 3, None, torch.device("cpu"))
             for v in hu[:, 0, 0, 0]]
    assert len(set(alone)) == len(alone) == count - 1  # one process: the whole epoch, as before (odd one left out)


def _train_command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            str(ROOT / "main.py"), "train", "--data", str(data), "--out", str(out), "--epochs", "4",
            "--freeze-epochs", "1", "--size", "64", "--batch", "2", "--encoder", "plain", "--init", "none",
            "--device", "cpu", "--max-slices-per-case", "4", "--near-slices", "1", "--far-slices", "0",
            "--val-fraction", "0.34", "--lr", "1e-3", "--lr-unfrozen", "1e-3"]


def _environment() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def _interrupt_after_first_epoch(command: list[str], out: Path) -> None:
    """Start the run and stop every process of it (as Ctrl+C in torchrun's terminal does) once a checkpoint holds
    a finished epoch."""
    run = subprocess.Popen(command, env=_environment(), start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    sidecar = checkpoint_path(out).with_suffix(".checkpoint.json")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and run.poll() is None:
        if sidecar.exists() and json.loads(sidecar.read_text())["next_epoch"] >= 1:
            os.killpg(run.pid, signal.SIGINT)
            break
        time.sleep(0.2)
    _, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
    assert run.returncode != 0 and not out.exists(), f"the run was not interrupted before its end:\n{stderr[-2000:]}"


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
def test_two_processes_train_resume_after_an_interruption_and_write_one_valid_model(tmp_path):
    data, out = nnunet_folder(tmp_path / "data"), tmp_path / "model" / "m.msmodel"
    command = _train_command(data, out)
    _interrupt_after_first_epoch(command, out)
    held = json.loads(checkpoint_path(out).with_suffix(".checkpoint.json").read_text())["next_epoch"]
    assert 1 <= held < 4
    resumed = subprocess.run(command, env=_environment(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {checkpoint_path(out)} at epoch {held + 1}" in resumed.stderr
    assert resumed.stdout.count("model saved to") == 1  # one process speaks for all
    model = load_model(out)  # checksum and architecture verified
    info = model.info
    assert [h["epoch"] for h in info["history"]] == [0, 1, 2, 3]
    assert info["schedule"]["processes"] == 2
    assert info["schedule"]["steps_per_epoch"] == steps_per_epoch(info["training"]["slices"], 2, Ranks(0, 2))
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.msmodel"]  # no checkpoint or second model left


@pytest.mark.process
@pytest.mark.slow
def test_two_processes_predict_their_shares_and_every_case_is_written_once(tmp_path):
    from tests.support.cases import small_ct

    names = ("ana", "ben", "carla", "dev", "eve")
    for n, name in enumerate(names):
        small_ct(tmp_path / "studies" / f"{name}.nii.gz", 70 + 2 * n, slices=2)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(ROOT / "main.py"), "predict", "--cases", str(tmp_path / "studies"), "--out", str(out),
               "--device", "cpu", "--engine", "torch", "--no-refine"]
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = re.findall(r"(\d+) done, (\d+) skipped \(done before\), (\d+) failed", done.stdout)
    assert len(summaries) == 2, done.stdout  # one summary per process, of its own share
    assert sorted(int(d) for d, _, _ in summaries) == [2, 3] and all(s == f == "0" for _, s, f in summaries)
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert all((out / name / "mandible_mask.nii.gz").is_file() for name in names)
