"""The architecture and preprocessing a model was built with; stored in every model file.

A config is checked against sane bounds when it is made, so that a model file declaring, say,
a window of width 0 or decoder blocks of a million channels is refused before any network is
built (docs/decisions/111).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from core.errors import ModelFileError
from core.model.encoders import ENCODERS
from core.windowing import WINDOW_PRESETS

CLASS_NAMES = ("background", "mandible")
# Field of view (mm) covered by the model input by default: 512 px at 1 mm, 128 px at 4 mm.
DEFAULT_FIELD_OF_VIEW_MM = 512.0
# Windows fed as R, G, B (docs/decisions/020): the bone, dental and soft-tissue presets, as
# (name, center, width) in HU. The numbers are copied into each model file, so a model keeps
# its own windows even if the presets change later.
DEFAULT_WINDOWS = tuple((name, WINDOW_PRESETS[name].center, WINDOW_PRESETS[name].width)
                        for name in ("bone", "dental", "soft"))
# ImageNet statistics: the pretrained encoder expects inputs normalised with them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# Bounds of a config that makes sense for a CT slice; anything outside is a damaged or crafted file.
INPUT_SIZE_RANGE = (32, 1024)
MM_PER_PIXEL_RANGE = (0.05, 20.0)
WINDOW_LIMIT_HU = 100_000.0  # |center| and width
DECODER_CHANNELS_MAX = 1024
CLASS_COUNT_RANGE = (2, 16)
CONTEXT_SLICES_MAX = 8  # per side
CONTEXT_MM_RANGE = (0.1, 50.0)


def default_mm_per_pixel(input_size: int) -> float:
    return DEFAULT_FIELD_OF_VIEW_MM / input_size


@dataclass(frozen=True)
class ModelConfig:
    """Switches of the paper's ablation (Table 3) plus how a CT slice becomes the network input."""

    encoder: str = "resnet50"
    attention: bool = True
    input_size: int = 512
    mm_per_pixel: float = 1.0
    windows: tuple[tuple[str, float, float], ...] = DEFAULT_WINDOWS
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    class_names: tuple[str, ...] = CLASS_NAMES
    decoder_channels: tuple[int, int, int, int] = (256, 128, 64, 32)
    extra: dict = field(default_factory=dict, compare=False)
    # Switches beyond the paper (issue 11; off = the paper's network, docs/decisions/122):
    context_slices: int = 0  # 2.5-D: neighbouring slices on each side fed as extra input channels
    context_mm: float = 3.0  # distance between those neighbours, in mm (independent of the slice spacing)
    deep_supervision: bool = False  # auxiliary heads on the decoder's coarser outputs (training only)
    flip_tta: bool = False  # inference averages the prediction with that of the left-right mirrored slice

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ModelFileError(f"unknown encoder {self.encoder!r}; choose one of {', '.join(ENCODERS)}")
        low, high = INPUT_SIZE_RANGE
        if not low <= self.input_size <= high or self.input_size % 32:
            raise ModelFileError(f"input size {self.input_size} must be a multiple of 32 from {low} to {high} "
                                 "(for example 128 or 512)")
        low, high = MM_PER_PIXEL_RANGE
        if not low <= self.mm_per_pixel <= high:  # also refuses NaN
            raise ModelFileError(f"mm per pixel must be from {low} to {high}, not {self.mm_per_pixel}")
        _check_windows(self.windows)
        _check_normalisation(self.mean, self.std)
        _check_head(self.decoder_channels, self.class_names)
        low, high = CONTEXT_MM_RANGE
        if not (0 <= self.context_slices <= CONTEXT_SLICES_MAX and low <= self.context_mm <= high):
            raise ModelFileError(f"context slices must be 0 to {CONTEXT_SLICES_MAX} per side, {low} to {high} mm "
                                 f"apart (got {self.context_slices} at {self.context_mm} mm)")

    @property
    def input_channels(self) -> int:
        """Three windows of the slice and of each context slice."""
        return 3 * (1 + 2 * self.context_slices)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        try:
            return cls(
                encoder=str(data["encoder"]),
                attention=bool(data["attention"]),
                input_size=int(data["input_size"]),
                mm_per_pixel=float(data["mm_per_pixel"]),
                windows=tuple((str(n), float(c), float(w)) for n, c, w in data["windows"]),
                mean=tuple(float(v) for v in data["mean"]),
                std=tuple(float(v) for v in data["std"]),
                class_names=tuple(str(v) for v in data["class_names"]),
                decoder_channels=tuple(int(v) for v in data["decoder_channels"]),
                extra=dict(data.get("extra", {})),
                context_slices=int(data.get("context_slices", 0)),
                context_mm=float(data.get("context_mm", 3.0)),
                deep_supervision=bool(data.get("deep_supervision", False)),
                flip_tta=bool(data.get("flip_tta", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"the model's architecture record is incomplete or malformed ({exc!r})") from exc


def _check_windows(windows) -> None:
    if len(windows) != 3:
        raise ModelFileError("the model input needs exactly three windows (R, G, B)")
    for name, center, width in windows:
        if not (abs(center) <= WINDOW_LIMIT_HU and 0 < width <= WINDOW_LIMIT_HU):  # also refuses NaN
            raise ModelFileError(f"window {name!r} (center {center}, width {width} HU) is not usable: the width "
                                 f"must be above 0 and at most {WINDOW_LIMIT_HU:g}")


def _check_normalisation(mean, std) -> None:
    if len(mean) != 3 or len(std) != 3:
        raise ModelFileError("the input normalisation needs three means and three standard deviations")
    if not all(math.isfinite(m) for m in mean) or not all(s > 0 and math.isfinite(s) for s in std):
        raise ModelFileError(f"input normalisation mean {mean} / std {std} is not usable: every std must be above 0")


def _check_head(decoder_channels, class_names) -> None:
    if len(decoder_channels) != 4 or not all(1 <= c <= DECODER_CHANNELS_MAX for c in decoder_channels):
        raise ModelFileError(f"decoder channels {tuple(decoder_channels)} are not usable: four blocks of 1 to "
                             f"{DECODER_CHANNELS_MAX} channels are expected, for example (256, 128, 64, 32)")
    low, high = CLASS_COUNT_RANGE
    if not low <= len(class_names) <= high:
        raise ModelFileError(f"{len(class_names)} classes: a model has {low} to {high} (background and mandible)")
