"""Starting weights for a run, including fine-tuning a model file into a network with more switches
(docs/decisions/122): a 2.5-D network gets the model's first convolution on the slice's own channels and
zeros on the neighbours' (so it starts out predicting exactly as the model did), and new auxiliary heads
of deep supervision start from their random initialisation. Everything else is core.model.encoder_init's.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from core.errors import ModelFileError, TrainingError
from core.model.encoder_init import initialise_network
from core.model.model_file import is_model_file, load_model
from core.model.unet import MandibleUNet

log = logging.getLogger(__name__)


def start_weights(network: MandibleUNet, init: str) -> dict:
    """Load the starting weights `init` says into `network`; return the record for the model file."""
    path = Path(init)
    if init in ("none", "imagenet") or not path.is_file() or not is_model_file(path):
        return initialise_network(network, init)
    try:
        previous = load_model(path)
    except ModelFileError as exc:
        raise TrainingError(f"cannot fine-tune from {path}: {exc}") from exc
    theirs, mine = previous.network.state_dict(), network.state_dict()
    if set(theirs) == set(mine) and all(theirs[k].shape == mine[k].shape for k in mine):
        return initialise_network(network, init)  # same architecture: the plain fine-tuning path
    if (previous.config.encoder, previous.config.attention, previous.config.decoder_channels) != (
            network.config.encoder, network.config.attention, network.config.decoder_channels):
        return initialise_network(network, init)  # says plainly that the architectures differ
    adapted = _merge(mine, theirs)
    network.load_state_dict(mine)
    log.info("fine-tuning %s into a network with new parts: %s", path.name, ", ".join(adapted))
    return {"kind": "model", "source": f"{path.name} (sha256 {previous.sha256[:12]})", "adapted": adapted}


def _merge(mine: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> list[str]:
    """Copy `theirs` into `mine` in place; return what had to be adapted."""
    adapted = []
    for name, tensor in mine.items():
        source = theirs.get(name)
        if source is None:
            adapted.append(f"{name} (new)")
        elif source.shape == tensor.shape:
            tensor.copy_(source)
        elif source.dim() == 4 and source.shape[0] == tensor.shape[0] and source.shape[1] < tensor.shape[1]:
            tensor.zero_()
            tensor[:, :source.shape[1]] = source  # the slice itself first; its neighbours start at zero
            adapted.append(f"{name} (widened from {source.shape[1]} to {tensor.shape[1]} input channels)")
        else:
            raise TrainingError(f"cannot fine-tune: {name} has shape {tuple(source.shape)} in the model file and "
                                f"{tuple(tensor.shape)} here")
    return adapted
