"""Model files: round trip with metadata, compact int8/fp16 storage, format-1 files, refusal of tampered and
foreign files, encoder initialisation. (Edited, truncated and crafted files: test_model_file_fuzz.py.)"""
from __future__ import annotations

import hashlib
import json
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from safetensors.torch import save_file

from core.errors import ModelFileError, TrainingError
from core.model.preprocess import hu_slices
from core.inference.segmenter import Segmenter
from core.io.loader import load_volume
from core.io.labels import load_labels
from core.model.config import ModelConfig
from core.model.encoder_init import initialise_network
from core.model.model_file import load_model, read_document, save_model, starter_model
from core.model.storage import SCALE_SUFFIX, encode
from core.model.unet import MandibleUNet
from tests.support.paths import SAMPLE_DIR, shared_path


def _small(**switches) -> MandibleUNet:
    torch.manual_seed(0)
    return MandibleUNet(ModelConfig(input_size=64, mm_per_pixel=8.0, **switches)).eval()


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "m.msmodel"
    save_model(path, _small(attention=False), {"encoder_init": {"kind": "none"}, "training": {"cases": 3}})
    return path


def test_round_trip_keeps_weights_architecture_and_metadata(model_path):
    loaded = load_model(model_path)
    assert loaded.config.attention is False and loaded.config.mm_per_pixel == 8.0
    assert loaded.info["training"] == {"cases": 3}
    assert loaded.info["torch_version"] == torch.__version__ and "saved_at" in loaded.info
    for name, tensor in _small(attention=False).state_dict().items():
        assert torch.equal(loaded.network.state_dict()[name], tensor), name
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.network(x), _small(attention=False)(x), rtol=1e-5, atol=1e-6)


def _bytes(tensors: dict) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def test_int8_and_fp16_keep_each_weight_within_half_a_step():
    state = _small().state_dict()
    int8, fp16 = encode(state, "int8"), encode(state, "fp16")
    name = "decoder.0.conv1.0.weight"
    weight, scale = state[name], int8[name + SCALE_SUFFIX]
    assert int8[name].dtype == torch.int8 and fp16[name].dtype == torch.float16
    step = scale[:, None, None, None]
    assert torch.all((int8[name].float() * step - weight).abs() <= step / 2 + 1e-9)
    assert torch.all((fp16[name].float() - weight).abs() <= weight.abs() * 2 ** -11 + 1e-7)
    for small in ("decoder.0.conv1.1.running_var", "head.weight", "head.bias"):  # BatchNorm and small tensors
        assert int8[small] is state[small] and fp16[small] is state[small]
    assert _bytes(fp16) < 0.55 * _bytes(state) and _bytes(int8) < 0.3 * _bytes(state)


@pytest.mark.slow
def test_compact_files_segment_real_slices_like_the_fp32_model(tmp_path):
    """Stated tolerance on 8 slices of the bundled sample: probabilities within 0.01 (fp16) and 0.05 (int8) of
    the fp32 model, masks with Dice >= 0.99 (fp16) and 0.98 (int8) against the fp32 model's."""
    starter = load_model(starter_model())
    torch.manual_seed(0)
    with torch.no_grad():  # jitter the weights by 1 %: this model's int8 round trip is then not exact
        for name, tensor in starter.network.state_dict().items():
            if name.endswith("weight") and tensor.dim() == 4:
                tensor.mul_(1 + 0.01 * torch.randn_like(tensor))
    volume = load_volume(SAMPLE_DIR)
    label = load_labels(SAMPLE_DIR.parent / "okbp_pt_224_label.nii.gz", volume)
    indices = [int(i) for i in np.linspace(*np.flatnonzero(label.any(axis=(1, 2)))[[0, -1]], 8)]
    canvas, _ = hu_slices(volume, indices, starter.config)
    # torch on both sides: the jittered network keeps its file's checksum, and OpenVINO's conversion cache is
    # keyed by that checksum, so it would answer for the starter as it was before the jitter
    expected = Segmenter(starter, "cpu", "fp32", engine="torch").probabilities(canvas)
    assert (expected > 0.5).sum() > 300  # the jittered fp32 model still segments the mandible
    for storage, tolerance, min_dice in (("fp16", 0.01, 0.99), ("int8", 0.05, 0.98)):
        save_model(tmp_path / f"{storage}.msmodel", starter.network, starter.info, storage)
        compact = Segmenter(load_model(tmp_path / f"{storage}.msmodel"), "cpu", "fp32",
                            engine="torch").probabilities(canvas)
        assert np.abs(compact - expected).max() <= tolerance, storage
        masks, expected_masks = compact > 0.5, expected > 0.5
        dice = 2 * np.logical_and(masks, expected_masks).sum() / (masks.sum() + expected_masks.sum())
        assert dice >= min_dice, (storage, dice)


def _write_format_1(path, network: MandibleUNet, info: dict) -> None:
    """A model file as the previous version wrote it: the checksum covers the weights only."""
    state = {name: tensor.contiguous() for name, tensor in network.state_dict().items()}
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(f"{name}|{state[name].dtype}|{tuple(state[name].shape)}|".encode())
        digest.update(state[name].reshape(-1).view(torch.uint8).numpy().tobytes())
    document = {"config": network.config.to_dict(), "info": info, "weights_sha256": digest.hexdigest()}
    save_file(state, str(path), metadata={"format": "mandible-studio-model", "format_version": "1",
                                          "mandible_studio": json.dumps(document)})


def test_format_1_files_still_load_and_a_flipped_weight_is_still_caught(tmp_path):
    path = tmp_path / "v1.msmodel"
    _write_format_1(path, _small(), {"best_epoch": 3})
    loaded = load_model(path)
    assert read_document(path)[0] == "1" and loaded.info == {"best_epoch": 3} and loaded.storage == "fp32"
    for name, tensor in _small().state_dict().items():  # every weight bit for bit; outputs may differ in the last
        assert torch.equal(loaded.network.state_dict()[name], tensor), name  # bit between CPUs' kernels
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.network(x), _small()(x), rtol=1e-5, atol=1e-6)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="modified"):
        load_model(path)


@pytest.mark.shared
def test_the_reference_format_1_model_loads():
    loaded = load_model(shared_path("models", "okbp128_gpu36.msmodel"))
    assert loaded.config.input_size == 128 and loaded.info["best_epoch"] == 35


def test_a_tampered_file_is_refused(model_path):
    data = bytearray(model_path.read_bytes())
    data[-100] ^= 0x01  # one bit of one weight
    model_path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="modified"):
        load_model(model_path)


def test_foreign_files_are_refused(tmp_path):
    pickle_file = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18().state_dict(), pickle_file)
    other_safetensors = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other_safetensors), metadata={"format": "pt"})
    for path in (pickle_file, other_safetensors):
        with pytest.raises(ModelFileError, match="not a Mandible Studio model"):
            load_model(path)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.msmodel")


def test_imagenet_init_without_cache_or_network_names_the_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-cache"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(TrainingError) as error:
        initialise_network(_small(), "imagenet")
    assert "--init FILE" in str(error.value) and "--init none" in str(error.value)


def test_init_from_a_torchvision_state_dict_file(tmp_path):
    reference = torchvision.models.resnet50()
    path = tmp_path / "resnet50.pth"
    torch.save(reference.state_dict(), path)
    network = _small()
    record = initialise_network(network, str(path))
    assert record["kind"] == "file"
    torch.testing.assert_close(network.encoder.layer4[2].conv3.weight, reference.layer4[2].conv3.weight)


def test_init_from_our_model_file_fine_tunes_the_whole_network(tmp_path):
    source = tmp_path / "previous.msmodel"
    save_model(source, _small(), {})
    torch.manual_seed(1)
    network = MandibleUNet(ModelConfig(input_size=64, mm_per_pixel=8.0))
    record = initialise_network(network, str(source))
    assert record["kind"] == "model" and "previous.msmodel" in record["source"]
    torch.testing.assert_close(network.head.weight, _small().head.weight)
    with pytest.raises(TrainingError, match="another architecture"):
        initialise_network(_small(attention=False), str(source))


def test_init_none_says_it_trains_from_scratch():
    assert "scratch" in initialise_network(_small(), "none")["source"]
