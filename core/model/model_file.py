"""One model file = weights + metadata, as safetensors (no pickle, so nothing runs on load).

The safetensors header carries three strings: a format tag, a format version and one JSON
document with the architecture (ModelConfig), `info` (how the encoder was initialised, the
training data summary, validation metrics, torch version, date...), how the weights are stored
(`storage`: fp32, fp16 or int8, core.model.storage) and a SHA-256.

Format 2 (written now): the SHA-256 covers EVERYTHING: the format version, the document
(config, info, storage) and every stored tensor (int8 scales included), so an edited window,
std or metric is caught like a flipped weight bit. Format 1 (read only): the SHA-256 covers the
weights alone. Either way the config is checked against sane bounds before any network is
built (docs/decisions/111), and a file without our tag, of another version, with other tensor
names or shapes, or whose checksum does not match is refused with ModelFileError.
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

from core.app_paths import bundled_models_dir
from core.errors import ModelFileError
from core.io.atomic import atomic_write_bytes
from core.model.config import ModelConfig
from core.model.storage import SCALE_SUFFIX, STORAGES, decode, encode
from core.model.unet import MandibleUNet

log = logging.getLogger(__name__)

FORMAT_TAG = "mandible-studio-model"
FORMAT_VERSION = "2"
WEIGHTS_ONLY_VERSION = "1"  # its checksum covers the weights only; still read
MODEL_SUFFIX = ".msmodel"
HEADER_LIMIT = 100_000_000  # bytes of safetensors header; the real ones are ~100 kB


@dataclass
class LoadedModel:
    """A network rebuilt from a model file, with the metadata it was saved with."""

    network: MandibleUNet
    config: ModelConfig
    info: dict = field(default_factory=dict)
    sha256: str = ""  # the checksum the file records (and that was verified)
    path: Path | None = None
    storage: str = "fp32"


def _update_with_tensor(digest, name: str, tensor: torch.Tensor) -> None:
    tensor = tensor.detach().cpu().contiguous()
    digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
    # The array's own buffer, not a copy: hashlib then releases the GIL while it hashes.
    digest.update(tensor.reshape(-1).view(torch.uint8).numpy())


def _document_digest(document: dict):
    """A SHA-256 started with the format version and the document (without its checksum), canonically."""
    digest = hashlib.sha256(f"{FORMAT_TAG}|{FORMAT_VERSION}|".encode())
    body = {key: value for key, value in document.items() if key != "sha256"}
    digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    return digest


def save_model(path: str | Path, network: MandibleUNet, info: dict, storage: str = "fp32") -> str:
    """Write the network and its metadata atomically; return the file's SHA-256.

    `storage` "fp16" or "int8" makes a compact file (about 2x or 4x smaller than fp32).
    """
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in network.state_dict().items()}
    stored = encode(state, storage)
    document = {
        "config": network.config.to_dict(),
        "info": {**info, "torch_version": torch.__version__,
                 "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
        "storage": storage,
    }
    digest = _document_digest(document)
    for name in sorted(stored):
        _update_with_tensor(digest, name, stored[name])
    document["sha256"] = digest.hexdigest()
    metadata = {"format": FORMAT_TAG, "format_version": FORMAT_VERSION, "mandible_studio": json.dumps(document)}
    atomic_write_bytes(path, save_safetensors_bytes(stored, metadata=metadata))
    log.info("model saved to %s (%s, sha256 %s)", path, storage, document["sha256"][:12])
    return document["sha256"]


def _tagged_metadata(data: bytes, path: Path) -> dict:
    """The safetensors header metadata, if it carries our format tag; else ModelFileError."""
    foreign = f"{path} is not a Mandible Studio model file"
    if len(data) < 8:
        raise ModelFileError(f"{foreign} (too short); choose a .msmodel file written by 'train'")
    size = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
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
        if not 0 < size < HEADER_LIMIT:
            return start  # too short or absurd: _tagged_metadata says it is not a model file
        return start + fh.read(size)


def read_document(path: str | Path) -> tuple[str, dict]:
    """The format version and the metadata document of a model file, from its header alone.

    The checksum is NOT verified here (that needs the weights): use it to describe a file, and
    `load_model` to use one.
    """
    path = Path(path)
    try:
        metadata = _tagged_metadata(_header_bytes(path), path)
    except OSError as exc:
        raise ModelFileError(f"{path} cannot be read ({exc.strerror or exc}); choose another model file") from exc
    version = metadata.get("format_version")
    if version not in (FORMAT_VERSION, WEIGHTS_ONLY_VERSION):
        raise ModelFileError(f"{path} has model format version {version!r}; this version of Mandible Studio "
                             f"reads versions {WEIGHTS_ONLY_VERSION} and {FORMAT_VERSION}")
    try:
        document = json.loads(metadata["mandible_studio"])
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the model's metadata is damaged ({exc!r})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("info", {}), dict):
        raise ModelFileError(f"{path}: the model's metadata is damaged (not a JSON object)")
    if document.get("storage", "fp32") not in STORAGES:
        raise ModelFileError(f"{path}: unknown weight storage {document.get('storage')!r}; "
                             f"this version of Mandible Studio reads {', '.join(STORAGES)}")
    return version, document


def _read_weights(path: Path, version: str, document: dict) -> tuple[dict[str, torch.Tensor], str]:
    """The network's tensors, decoded, and the checksum computed over what the file holds."""
    digest = hashlib.sha256() if version == WEIGHTS_ONLY_VERSION else _document_digest(document)
    state: dict[str, torch.Tensor] = {}
    try:  # tensor by tensor: no single call holds the GIL for the whole file (the GUI stays fluid)
        with safe_open(str(path), framework="pt") as weights:
            names = sorted(weights.keys())
            stored = set(names)
            for name in names:
                tensor = weights.get_tensor(name)
                _update_with_tensor(digest, name, tensor)
                if name.endswith(SCALE_SUFFIX) and name.removesuffix(SCALE_SUFFIX) in stored:
                    continue  # decoded with its weight
                scale = weights.get_tensor(name + SCALE_SUFFIX) if name + SCALE_SUFFIX in stored else None
                state[name] = decode(name, tensor, scale)
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise ModelFileError(f"{path} is damaged: its weights cannot be read ({exc})") from exc
    return state, digest.hexdigest()


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
    version, document = read_document(path)
    config = ModelConfig.from_dict(document.get("config", {}))  # bounds checked before anything is built
    state, sha = _read_weights(path, version, document)
    recorded = document.get("weights_sha256" if version == WEIGHTS_ONLY_VERSION else "sha256")
    if sha != recorded:
        raise ModelFileError(f"{path} has been modified since it was saved (checksum mismatch); "
                             "use the original file or train a new model")
    with torch.device("meta"):  # shapes only: nothing is allocated or randomly initialised
        network = MandibleUNet(config)
    _check_state(state, network, path)
    network.load_state_dict(state, assign=True)  # the network takes the file's tensors as they are
    network.to(device).eval()
    return LoadedModel(network, config, dict(document.get("info", {})), sha, path, document.get("storage", "fp32"))


def compact_model(source: str | Path, dest: str | Path, storage: str, provenance: dict | None = None) -> str:
    """Rewrite a model file (any readable version) with compact `storage`; return the new file's SHA-256.

    The new file's info keeps the source's, records which file it came from (name, checksum, torch
    version, date) and, when given, `provenance`: how the model was trained, for a model whose
    training record came from elsewhere.
    """
    loaded = load_model(source)
    info = {key: value for key, value in loaded.info.items() if key not in ("torch_version", "saved_at")}
    info["compacted_from"] = {"file": Path(source).name, "sha256": loaded.sha256, "storage": loaded.storage,
                              **{key: loaded.info[key] for key in ("torch_version", "saved_at") if key in loaded.info}}
    if provenance is not None:
        info["provenance"] = provenance
    return save_model(dest, loaded.network, info, storage)


def starter_model() -> Path:
    """The bundled starter model file (resources/models), the default model of `predict` and `evaluate`."""
    found = sorted(bundled_models_dir().glob(f"*{MODEL_SUFFIX}"))
    if not found:
        raise ModelFileError(f"no model given and no starter model in {bundled_models_dir()}; "
                             "give one with --model FILE")
    return found[0]


def is_model_file(path: str | Path) -> bool:
    """True when `path` carries our format tag (version and weights are checked by load_model)."""
    try:
        _tagged_metadata(_header_bytes(Path(path)), Path(path))
        return True
    except (OSError, ModelFileError):
        return False
