"""The network through OpenVINO, a runtime made for CPUs (docs/decisions/232, benchmarks/bench_cpu_engines.py).

On a CPU without native bf16 (AVX2: most technicians' PCs, and this project's dev machine) torch runs the
network in fp32 through oneDNN with its batch norms unfused; OpenVINO folds them into the convolutions and is
several times faster there, with the same logits to 1e-4 and the same masks. `select_engine` picks it for a model
file on such a CPU when the package is installed; elsewhere (CUDA, a CPU with native bf16 where torch's bf16
autocast is measured, torch.compile) torch stays.

    forward = openvino_network(loaded, runtime)      # torch [N, C, S, S] float32 -> torch [N, 2, S, S] logits

Converting a network (OpenVINO's PyTorch front end traces it) takes seconds to a minute; the converted model is
cached under the user's cache folder by the model file's checksum, so a model is converted once per machine.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from core.errors import MandibleStudioError
from core.model.model_file import LoadedModel
from core.model.runtime import Runtime

log = logging.getLogger(__name__)

ENGINES = ("auto", "torch", "openvino")


def openvino_installed() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def select_engine(engine: str, model: LoadedModel, runtime: Runtime, compile: str = "off") -> str:
    """"torch" or "openvino" for `engine` (one of ENGINES). auto: OpenVINO for a model file (it has a checksum to
    cache the conversion by) on a CPU where torch would run fp32, when OpenVINO is installed; torch elsewhere."""
    if engine not in ENGINES:
        raise MandibleStudioError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "openvino":
        if runtime.device.type != "cpu":
            raise MandibleStudioError("--engine openvino runs on the CPU; use --device cpu or --engine torch")
        if not openvino_installed():
            raise MandibleStudioError("--engine openvino: the openvino package is not installed "
                                      "(pip install openvino), or use --engine torch")
        if compile != "off":
            raise MandibleStudioError("--compile is for torch; use --engine torch with it")
        return "openvino"
    if (engine == "auto" and runtime.device.type == "cpu" and runtime.amp_dtype is None and compile == "off"
            and model.sha256 and openvino_installed()):
        return "openvino"
    return "torch"


class OpenVinoNetwork:
    """A compiled OpenVINO model called like the torch network it was converted from."""

    def __init__(self, compiled) -> None:
        self.compiled = compiled

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        result = self.compiled(np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32))
        return torch.from_numpy(np.asarray(result[0]))


def openvino_network(model: LoadedModel, runtime: Runtime, cache_dir: Path | None = None) -> OpenVinoNetwork:
    """The model's network compiled by OpenVINO for this CPU, with torch's thread count and precision."""
    import openvino as ov

    core = ov.Core()
    channels = 3 * (1 + 2 * model.config.context_slices)
    size = model.config.input_size
    converted = _converted(core, model, channels, size, cache_dir)
    converted.reshape({0: ov.PartialShape([-1, channels, size, size])})
    # Threads not pinned to cores: pinned, two OpenVINO users (the app and a command, two commands) or any other
    # busy program on the same cores made it twice slower than torch here; unpinned it stays the faster.
    config = {"INFERENCE_PRECISION_HINT": "bf16" if runtime.amp_dtype == torch.bfloat16 else "f32",
              "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads(),
              "ENABLE_CPU_PINNING": False}
    return OpenVinoNetwork(core.compile_model(converted, "CPU", config))


def _converted(core, model: LoadedModel, channels: int, size: int, cache_dir: Path | None):
    """OpenVINO's model of the network, from the cache when this model file was converted before."""
    import openvino as ov

    cached = None
    if model.sha256:
        folder = cache_dir if cache_dir is not None else _default_cache_dir()
        cached = folder / f"{model.sha256[:24]}-{channels}x{size}-ov{ov.__version__.split('-')[0]}.xml"
        if cached.is_file() and cached.with_suffix(".bin").is_file():
            try:
                return core.read_model(str(cached))
            except RuntimeError as error:  # a damaged cache entry is converted again
                log.warning("cached OpenVINO model %s unreadable (%s); converting again", cached, error)
    log.info("converting the network for OpenVINO (once per model file on this machine)")
    with torch.no_grad():  # OpenVINO's own PyTorch front end: traces the network once
        converted = ov.convert_model(model.network.eval(), example_input=torch.zeros(1, channels, size, size))
    if cached is not None:
        _save(ov, converted, cached)
    return converted


def _save(ov, converted, path: Path) -> None:
    """Write the converted model (.xml + .bin) atomically: a reader sees the whole pair or none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.stem}.{os.getpid()}.xml")
        ov.save_model(converted, str(temporary), compress_to_fp16=False)
        os.replace(temporary.with_suffix(".bin"), path.with_suffix(".bin"))
        os.replace(temporary, path)
    except OSError as error:  # no cache: the next start converts again
        log.warning("could not cache the OpenVINO model in %s: %s", path.parent, error)


def _default_cache_dir() -> Path:
    from core.app_paths import cache_dir

    return cache_dir() / "openvino"
