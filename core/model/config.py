"""The architecture and preprocessing a model was built with; stored in every model file."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.errors import ModelFileError
from core.windowing import WINDOW_PRESETS

ENCODERS = ("resnet50", "plain")
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

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ModelFileError(f"unknown encoder {self.encoder!r}; choose one of {', '.join(ENCODERS)}")
        if self.input_size < 32 or self.input_size % 32:
            raise ModelFileError(f"input size {self.input_size} must be a multiple of 32 (for example 128 or 512)")
        if self.mm_per_pixel <= 0:
            raise ModelFileError(f"mm per pixel must be positive, not {self.mm_per_pixel}")
        if len(self.windows) != 3:
            raise ModelFileError("the model input needs exactly three windows (R, G, B)")

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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"the model's architecture record is incomplete or malformed ({exc!r})") from exc
