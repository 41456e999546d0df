"""One model file = weights + metadata, as safetensors (no pickle, so nothing runs on load).

The safetensors header carries three strings: a format tag, a format version and one JSON
document with the architecture (ModelConfig), how the encoder was initialised, the training
data summary, validation metrics, torch version and date, and a SHA-256 of the weights.
A file without our tag, of another version, with other tensor names or shapes, or whose
weights do not match the recorded hash is refused with ModelFileError.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_safetensors_bytes

from core.errors import ModelFileError
from core.io.atomic import atomic_write_bytes
from core.model.config import ModelConfig
from core.model.unet import MandibleUNet

log = logging.getLogger(__name__)

FORMAT_TAG = "mandible-studio-model"
FORMAT_VERSION = "1"
MODEL_SUFFIX = ".msmodel"


@dataclass
class LoadedModel:
    """A network rebuilt from a model file, with the metadata it was saved with."""

    network: MandibleUNet
    config: ModelConfig
    info: dict = field(default_factory=dict)
    weights_sha256: str = ""
    path: Path | None = None


def weights_digest(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        # The array's own buffer, not a copy: hashlib then releases the GIL while it hashes.
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def save_model(path: str | Path, network: MandibleUNet, info: dict) -> str:
    """Write the network and its metadata atomically; return the weights' SHA-256."""
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in network.state_dict().items()}
    sha = weights_digest(state)
    document = {
        "config": network.config.to_dict(),
        "info": {**info, "torch_version": torch.__version__,
                 "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
        "weights_sha256": sha,
    }
    metadata = {"format": FORMAT_TAG, "format_version": FORMAT_VERSION, "mandible_studio": json.dumps(document)}
    atomic_write_bytes(path, save_safetensors_bytes(state, metadata=metadata))
    log.info("model saved to %s (weights sha256 %s)", path, sha[:12])
    return sha


def _tagged_metadata(data: bytes, path: Path) -> dict:
    """The safetensors header metadata, if it carries our format tag; else ModelFileError."""
    foreign = f"{path} is not a Mandible Studio model file"
    if len(data) < 8:
        raise ModelFileError(f"{foreign} (too short); choose a .msmodel file written by 'train'")
    size = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{foreign} (no safetensors header); choose a .msmodel file written by 'train'") from exc
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_TAG:
        raise ModelFileError(f"{foreign} (no '{FORMAT_TAG}' tag); choose a .msmodel file written by 'train'")
    return metadata


def _header_bytes(path: Path) -> bytes:
    """The file's first bytes: the 8-byte header size and the JSON header (not the weights)."""
    with open(path, "rb") as fh:
        start = fh.read(8)
        size = int.from_bytes(start, "little") if len(start) == 8 else 0
        if not 0 < size < 100_000_000:
            return start  # too short or absurd: _tagged_metadata says it is not a model file
        return start + fh.read(size)


def _read_header(data: bytes, path: Path) -> dict:
    metadata = _tagged_metadata(data, path)
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format version {metadata.get('format_version')!r}; "
                             f"this version of Mandible Studio reads version {FORMAT_VERSION}")
    try:
        return json.loads(metadata["mandible_studio"])
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{path}: the model's metadata is damaged ({exc!r})") from exc


def _check_state(state: dict, network: MandibleUNet, path: Path) -> None:
    expected = network.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ModelFileError(f"{path} does not match its recorded architecture "
                             f"({len(missing)} tensors missing, {len(unexpected)} unexpected)")
    wrong = [n for n, t in expected.items() if tuple(t.shape) != tuple(state[n].shape) or t.dtype != state[n].dtype]
    if wrong:
        raise ModelFileError(f"{path}: tensor {wrong[0]} has the wrong shape or type for the recorded architecture")


def load_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild the network from a model file, refusing foreign, damaged or tampered files."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; train one with 'python main.py train'")
    document = _read_header(_header_bytes(path), path)
    config = ModelConfig.from_dict(document.get("config", {}))
    try:  # tensor by tensor: no single call holds the GIL for the whole file (the GUI stays fluid)
        with safe_open(str(path), framework="pt") as weights:
            state = {name: weights.get_tensor(name) for name in weights.keys()}
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise ModelFileError(f"{path} is damaged: its weights cannot be read ({exc})") from exc
    sha = weights_digest(state)
    if sha != document.get("weights_sha256"):
        raise ModelFileError(f"{path} has been modified since it was saved (weights checksum mismatch); "
                             "use the original file or train a new model")
    network = MandibleUNet(config)
    _check_state(state, network, path)
    network.load_state_dict(state)
    network.to(device).eval()
    return LoadedModel(network, config, dict(document.get("info", {})), sha, path)


def is_model_file(path: str | Path) -> bool:
    """True when `path` carries our format tag (version and weights are checked by load_model)."""
    try:
        _tagged_metadata(_header_bytes(Path(path)), Path(path))
        return True
    except (OSError, ModelFileError):
        return False
