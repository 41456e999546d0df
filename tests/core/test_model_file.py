"""Model files: round trip with metadata, refusal of tampered and foreign files, encoder initialisation."""
from __future__ import annotations

import urllib.error

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from core.errors import ModelFileError, TrainingError
from core.model.config import ModelConfig
from core.model.encoder_init import initialise_network
from core.model.model_file import load_model, save_model
from core.model.unet import MandibleUNet


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
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.network(x), _small(attention=False)(x), rtol=0, atol=0)


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
