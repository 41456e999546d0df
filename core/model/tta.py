"""The network's mandible probability for a batch of prepared inputs, with flip test-time augmentation
when the model's config asks for it (ModelConfig.flip_tta; docs/decisions/122).

Flip TTA runs the network a second time on the left-right mirrored slices and averages the two
probabilities after mirroring the second back: twice the network time for a prediction that no
longer depends on which side of the face a structure is on.
"""
from __future__ import annotations

import torch

from core.model.config import ModelConfig
from core.model.runtime import Runtime


def mandible_probability(network: torch.nn.Module, x: torch.Tensor, config: ModelConfig,
                         runtime: Runtime) -> torch.Tensor:
    """Probability of class 1 (mandible), float32 [N, H, W], on x's device."""
    with runtime.autocast():
        logits = network(x)
    probability = torch.softmax(logits.float(), dim=1)[:, 1]
    if config.flip_tta:
        with runtime.autocast():
            mirrored = network(x.flip(-1))
        probability = (probability + torch.softmax(mirrored.float(), dim=1)[:, 1].flip(-1)) / 2.0
    return probability
