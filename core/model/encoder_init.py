"""Where the encoder's starting weights come from; never a silent random fallback.

Order offered to the user: torchvision ImageNet weights (cached, or downloaded when the
network allows), a local torchvision-format resnet50 state dict, or one of our model files
(fine-tuning the whole network). "none" trains from scratch and the record says so.
"""
from __future__ import annotations

import logging
import socket
from pathlib import Path

import torch
import torchvision

from core.errors import ModelFileError, TrainingError
from core.model.encoders import ENCODERS, KnownWeights
from core.model.model_file import is_model_file, load_model
from core.model.unet import MandibleUNet

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 30


def initialise_network(network: MandibleUNet, init: str) -> dict:
    """Load starting weights into `network` as `init` says; return the record for the model file."""
    if init == "none":
        log.info("encoder initialisation: none (training from scratch, random weights)")
        return {"kind": "none", "source": "random initialisation (trained from scratch)"}
    if init == "imagenet":
        record = _load_imagenet(network)
    else:
        record = _load_file(network, Path(init))
    log.info("encoder initialisation: %s (%s)", record["kind"], record["source"])
    return record


def _imagenet_state(known: KnownWeights, label: str) -> tuple[dict, str]:
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    enum = getattr(torchvision.models, known.enum)
    candidates = [getattr(enum, name) for name in known.members]
    for weights in candidates:
        if (cache / Path(weights.url).name).is_file():
            return weights.get_state_dict(progress=False), f"torchvision {known.enum}.{weights.name} (cached)"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return candidates[0].get_state_dict(progress=False), f"torchvision {known.enum}.{candidates[0].name}"
    except (OSError, RuntimeError) as exc:  # URLError is an OSError; a truncated download a RuntimeError
        raise TrainingError(
            f"ImageNet weights for {label} are not available: none cached in {cache} and the download failed "
            f"({exc}). Use --init FILE with a torchvision-format state dict (.pth) or a Mandible Studio model, "
            "or --init none to train from scratch."
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)


def _load_imagenet(network: MandibleUNet) -> dict:
    spec = ENCODERS[network.config.encoder]
    if "imagenet" not in spec.weights:
        having = ", ".join(s.label for s in ENCODERS.values() if "imagenet" in s.weights)
        raise TrainingError(f"ImageNet weights exist only for {having}, not for the {spec.label}; "
                            "use --init none or --init FILE")
    state, source = _imagenet_state(spec.weights["imagenet"], spec.label)
    _load_encoder_state(network, state, source)
    return {"kind": "imagenet", "source": source}


def _read_state_dict(path: Path) -> dict:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and safetensors errors have no common base
        raise TrainingError(f"{path} cannot be read as a weights file ({exc}); give a torchvision "
                            "resnet50 state dict (.pth) or a Mandible Studio model (.msmodel)") from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise TrainingError(f"{path} does not hold a state dict")
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _load_encoder_state(network: MandibleUNet, state: dict, source: str) -> None:
    try:
        missing, unexpected = network.encoder.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatch
        raise TrainingError(f"{source} does not fit the {network.config.encoder} encoder: {exc}") from exc
    if missing:
        raise TrainingError(f"{source} is not a torchvision resnet50 state dict: {len(missing)} encoder "
                            f"weights missing (first: {missing[0]})")
    ignored = [key for key in unexpected if not key.startswith("fc.")]
    if ignored:
        log.warning("%d weights in %s are not part of the encoder and were ignored", len(ignored), source)


def _load_file(network: MandibleUNet, path: Path) -> dict:
    if not path.is_file():
        raise TrainingError(f"--init {path}: no such file; use --init imagenet, --init none or an existing file")
    if is_model_file(path):
        try:
            previous = load_model(path)
        except ModelFileError as exc:
            raise TrainingError(f"cannot fine-tune from {path}: {exc}") from exc
        mine, theirs = network.config, previous.config
        if (mine.encoder, mine.attention, mine.decoder_channels, mine.class_names) != (
                theirs.encoder, theirs.attention, theirs.decoder_channels, theirs.class_names):
            raise TrainingError(f"{path} has another architecture ({theirs.encoder}, attention {theirs.attention}); "
                                "train with the same switches or use --init imagenet")
        network.load_state_dict(previous.network.state_dict())
        return {"kind": "model", "source": f"{path.name} (sha256 {previous.sha256[:12]})"}
    _load_encoder_state(network, _read_state_dict(path), str(path))
    return {"kind": "file", "source": f"{path.name} (torchvision-format encoder weights)"}
