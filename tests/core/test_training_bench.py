"""benchmarks/bench_gpu.py runs on a CPU in its CI-sized form: one JSON line per figure, each beside its
same-run baseline, and the figures that need a GPU skipped with the reason."""
from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.support.paths import ROOT


@pytest.mark.process  # it trains (the bench's training figures)
@pytest.mark.slow
def test_bench_gpu_prints_one_json_line_per_figure_with_its_baseline(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "benchmarks" / "bench_gpu.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_gpu", bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    bench.main(["--ci"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    figures = {line["figure"]: line for line in lines}
    assert set(figures) == {"augmentation_64px", "training_64px", "paper_schedule_64px_100_epochs",
                            "inference_64px_batch1", "inference_64px_batch2", "inference_64px_batch1_compiled",
                            "inference_64px_batch2_compiled", "peak_gpu_memory", "gpu_figures"}
    assert "CUDA" in figures["inference_64px_batch1_compiled"]["skipped"]
    for name in ("augmentation_64px", "training_64px", "inference_64px_batch1", "inference_64px_batch2"):
        assert figures[name]["value"] > 0 and figures[name]["baseline_value"] > 0, name
    assert figures["paper_schedule_64px_100_epochs"]["value"] > 0
    assert "no CUDA GPU" in figures["peak_gpu_memory"]["skipped"] or "--ci" in figures["peak_gpu_memory"]["skipped"]
