"""The SHA-256 of the weights a tiny default training run ends with, on the CPU: run it from two source trees
to show that a change leaves the default training bit for bit as it was (issue 19: the scanner-variety switch,
off by default).

    PYTHONPATH=/path/to/other/tree .venv/bin/python benchmarks/training_fingerprint.py   # e.g. main's
    .venv/bin/python benchmarks/training_fingerprint.py                                 # this tree
    .venv/bin/python benchmarks/training_fingerprint.py --scanner-augment               # differs, as it should

Three OpenKBP training cases, 64 px, two epochs (one frozen), batch 4, the default augmentation, seed 0, one
thread: about a minute on a loaded CPU. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model.model_file import load_model  # noqa: E402
from core.training.config import TrainingConfig  # noqa: E402
from core.training.slices import SliceSampling  # noqa: E402
from core.training.trainer import train  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openkbp" / "train"
CASES = ("okbp_pt_1", "okbp_pt_2", "okbp_pt_4")


def linked_cases(root: Path) -> Path:
    for sub in ("imagesTr", "labelsTr"):
        (root / sub).mkdir(parents=True)
    for case in CASES:
        (root / "imagesTr" / f"{case}_0000.nii.gz").symlink_to(SHARED / "imagesTr" / f"{case}_0000.nii.gz")
        (root / "labelsTr" / f"{case}.nii.gz").symlink_to(SHARED / "labelsTr" / f"{case}.nii.gz")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scanner-augment", action="store_true", help="train with the scanner-variety switch on")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    with tempfile.TemporaryDirectory() as folder:
        data = linked_cases(Path(folder) / "data")
        out = Path(folder) / "m.msmodel"
        settings = dict(data=[str(data)], out=str(out), epochs=2, freeze_epochs=1, batch_size=4, input_size=64,
                        init="none", lr=1e-3, lr_unfrozen=1e-3, device="cpu", val_fraction=0.34,
                        sampling=SliceSampling(near=1, far=0, max_per_case=4))
        if args.scanner_augment:
            settings["scanner_augment"] = True
        train(TrainingConfig(**settings))
        state = load_model(out).network.state_dict()
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    import core
    print(json.dumps({"tree": str(Path(core.__file__).resolve().parents[1]), "scanner_augment": args.scanner_augment,
                      "weights_sha256": digest.hexdigest()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
