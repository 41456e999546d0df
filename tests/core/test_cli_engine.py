"""train -> predict -> evaluate through main.py, on real data and the bundled sample."""
from __future__ import annotations

import json
import subprocess
import urllib.error

import numpy as np
import PIL.Image
import pytest
import torch

from core.io.nifti import load_nifti_labels
from core.io.loader import load_volume
from core.io.slice_export import slice_stem
from main import main
from tests.support.paths import LABELME_CHECK, SAMPLE_DIR
from tests.support.cases import nnunet_folder

SAMPLE_LABELS = SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz"


def _train_args(data, out, *extra):
    return ["train", "--data", str(data), "--out", str(out), "--epochs", "3", "--freeze-epochs", "1",
            "--size", "64", "--batch", "4", "--init", "none", "--lr", "1e-3", "--lr-unfrozen", "1e-3",
            "--near-slices", "1", "--far-slices", "1", "--max-slices-per-case", "6", "--device", "cpu", *extra]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    data = nnunet_folder(root / "data", cases=("okbp_pt_1", "okbp_pt_2", "okbp_pt_4", "okbp_pt_6"))
    model = root / "tiny.msmodel"
    assert main(_train_args(data, model)) == 0
    return model


@pytest.mark.process
@pytest.mark.shared
@pytest.mark.slow
def test_predict_writes_labelme_slices_that_labelme_reads_and_a_nifti_mask(tiny_model, tmp_path, capsys):
    out = tmp_path / "pred"
    assert main(["predict", "--model", str(tiny_model), str(SAMPLE_DIR), "--out", str(out)]) == 0
    assert "segmented 128 slices" in capsys.readouterr().out
    volume = load_volume(SAMPLE_DIR)
    mask = load_nifti_labels(out / "mandible_mask.nii.gz", volume)
    assert mask.shape == volume.shape and mask.any()
    assert len(list(out.glob("*.json"))) == len(list(out.glob("*.png"))) == 128
    if not LABELME_CHECK.exists():
        pytest.skip(f"needs {LABELME_CHECK}")
    masks = tmp_path / "masks"
    masks.mkdir()
    for index in np.flatnonzero(mask.reshape(128, -1).any(axis=1)):
        PIL.Image.fromarray(mask[index] * 255).save(masks / f"{slice_stem(index)}.png")
    check = subprocess.run([str(LABELME_CHECK), "--masks", str(masks), str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]


@pytest.mark.process  # its model is trained by the module's fixture
@pytest.mark.shared
@pytest.mark.slow
def test_evaluate_prints_one_json_line_with_the_paper_metrics(tiny_model, capsys):
    code = main(["evaluate", "--model", str(tiny_model), "--data", str(SAMPLE_DIR), "--labels", str(SAMPLE_LABELS)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    for key in ("acc", "precision", "recall", "miou", "iou_mandible", "dice", "dice_3d_mean"):
        assert 0.0 <= result[key] <= 1.0
    assert (result["slices"], result["cases"]) == (128, 1)
    assert result["dice_3d_mean"] == pytest.approx(result["dice"])  # one case: pooled = 3-D


@pytest.mark.shared
def test_imagenet_init_without_weights_stops_with_the_alternatives(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-cache"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    data = nnunet_folder(tmp_path / "data", cases=("okbp_pt_1", "okbp_pt_2"))
    args = _train_args(data, tmp_path / "m.msmodel")
    args[args.index("--init") + 1] = "imagenet"
    assert main(args) == 2
    message = capsys.readouterr().err
    assert "--init FILE" in message and "--init none" in message
    assert not (tmp_path / "m.msmodel").exists()


@pytest.mark.process  # its model is trained by the module's fixture
@pytest.mark.shared
def test_a_tampered_model_is_refused_by_predict(tiny_model, tmp_path, capsys):
    tampered = tmp_path / "tampered.msmodel"
    data = bytearray(tiny_model.read_bytes())
    data[len(data) // 2] ^= 0x40
    tampered.write_bytes(bytes(data))
    assert main(["predict", "--model", str(tampered), str(SAMPLE_DIR), "--out", str(tmp_path / "p")]) == 2
    assert "modified" in capsys.readouterr().err
