"""Measure models on labelled cases with the paper's metrics, on each slice's own grid.

It sits above inference and training: it runs a Segmenter on the cases that training reads.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from core.errors import Cancelled
from core.inference.postprocess import PredictionPolicy
from core.inference.segmenter import DEFAULT_POLICY, Segmenter
from core.training.data import CaseRef, load_labelled_case
from core.training.metrics import SegmentationMetrics

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


def evaluate_cases(segmenter: Segmenter, refs: list[CaseRef], policy: PredictionPolicy = DEFAULT_POLICY,
                   progress: Callable[[int, int, str], None] | None = None,
                   cancel: threading.Event | None = None) -> dict:
    """Pooled metrics over every labelled slice, plus 3-D Dice per case.

    Every case goes through the one prediction path (Segmenter.predict_volume) with `policy`; a Labelme
    folder, which may hold only some slices of a scan, has no slice spacing, so its slices are cleaned alone.
    """
    metrics = SegmentationMetrics()
    for number, ref in enumerate(refs):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"evaluation cancelled after {number} of {len(refs)} cases")
        case = load_labelled_case(ref)
        masks = segmenter.predict_volume(case.volume, policy, cancel=cancel)
        counts = metrics.update(masks, case.labels, case=ref.name)
        log.info("%s: Dice %.4f over %d slices", ref.name, 2 * counts.tp / max(1, 2 * counts.tp + counts.fp + counts.fn),
                 len(masks))
        if progress is not None:
            progress(number + 1, len(refs), f"evaluated {ref.name}")
    return metrics.aggregate()


def compare_models(candidate: str | Path, baseline: str | Path | None, val_refs: list, device: str = "auto",
                   progress: Progress | None = None, cancel: threading.Event | None = None) -> dict | None:
    """Both models' metrics on the same validation cases (evaluate_cases, each slice's own grid).

    Returns {"slices", "cases", "candidate": metrics, "baseline": metrics or None}; None without validation cases.
    """
    if not val_refs:
        return None
    result: dict = {"cases": [ref.name for ref in val_refs], "baseline": None}
    models = [("candidate", candidate)] + ([("baseline", baseline)] if baseline is not None else [])
    for number, (key, path) in enumerate(models):
        segmenter = Segmenter.from_file(path, device=device)
        metrics = evaluate_cases(segmenter, val_refs, cancel=cancel)
        metrics.pop("dice_3d", None)
        result[key] = metrics
        result["slices"] = int(metrics["slices"])
        if progress is not None:
            progress(number + 1, len(models), f"measured the {key} model on the validation slices")
    return result
