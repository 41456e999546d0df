"""OpenVINO runs the network on CPUs without native bf16 (docs/decisions/232): picked only there, same masks."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.errors import MandibleStudioError
from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.model.openvino_network import select_engine
from core.model.runtime import Runtime
from core.training.metrics import confusion, dice
from tests.support.paths import SAMPLE_DIR

pytest.importorskip("openvino")

FP32_CPU = Runtime(torch.device("cpu"), None)
BF16_CPU = Runtime(torch.device("cpu"), torch.bfloat16)


def test_auto_picks_openvino_only_for_a_model_file_where_torch_would_run_fp32_on_the_cpu(starter):
    assert select_engine("auto", starter, FP32_CPU) == "openvino"
    assert select_engine("auto", starter, BF16_CPU) == "torch", "native bf16: torch's measured bf16 path stays"
    assert select_engine("auto", dataclasses.replace(starter, sha256=""), FP32_CPU) == "torch", "no file to cache by"
    assert select_engine("auto", starter, FP32_CPU, compile="default") == "torch"
    assert select_engine("torch", starter, FP32_CPU) == "torch"
    with pytest.raises(MandibleStudioError, match="choose one of auto, torch, openvino"):
        select_engine("onnx", starter, FP32_CPU)
    with pytest.raises(MandibleStudioError, match="--compile is for torch"):
        select_engine("openvino", starter, FP32_CPU, compile="default")


def test_openvino_gives_torchs_probabilities_and_masks_on_the_sample(starter):
    volume = load_volume(SAMPLE_DIR)
    slices = list(range(52, 60))  # through the sample's mandible
    results = {engine: list(Segmenter(starter, "cpu", "fp32", engine=engine).predict(volume, slices))
               for engine in ("torch", "openvino")}
    masks = {engine: np.stack([p.mask for p in found if not p.revised]) for engine, found in results.items()}
    assert masks["torch"].any()
    assert dice(confusion(masks["openvino"] > 0, masks["torch"] > 0)) > 0.995
    confidences = {engine: [p.confidence for p in found if not p.revised] for engine, found in results.items()}
    np.testing.assert_allclose(confidences["openvino"], confidences["torch"], atol=0.005)


def test_auto_segments_with_torch_when_openvino_cannot_prepare_the_network(starter, monkeypatch, caplog):
    """A bundle or install whose OpenVINO lacks its CPU plugin still segments (with torch, said in the log);
    asked for by name, OpenVINO's failure is a plain error."""
    def broken(model, runtime):
        raise RuntimeError("Device with \"CPU\" name is not registered in the OpenVINO Runtime")

    monkeypatch.setattr("core.inference.segmenter.openvino_network", broken)
    segmenter = Segmenter(starter, "cpu", "fp32")
    assert segmenter.engine == "torch" and segmenter.batch_size == 1
    assert "segmenting with torch instead" in caplog.text
    found = list(segmenter.predict(load_volume(SAMPLE_DIR), [56]))
    assert found[-1].mask.any()
    with pytest.raises(MandibleStudioError, match="OpenVINO could not prepare the network"):
        Segmenter(starter, "cpu", "fp32", engine="openvino")
