"""Measure a model on labelled cases with the paper's metrics, on each slice's own grid."""
from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np

from core.errors import Cancelled
from core.inference.postprocess import clean_mask
from core.inference.segmenter import Segmenter
from core.training.data import CaseRef, load_case
from core.training.metrics import SegmentationMetrics

log = logging.getLogger(__name__)


def evaluate_cases(segmenter: Segmenter, refs: list[CaseRef], postprocess: bool = True,
                   progress: Callable[[int, int, str], None] | None = None,
                   cancel: threading.Event | None = None) -> dict:
    """Pooled metrics over every labelled slice, plus 3-D Dice per case.

    Whole volumes are segmented slice by slice and cleaned in 3-D; Labelme folders (which may
    hold only some slices of a scan) are cleaned slice by slice.
    """
    metrics = SegmentationMetrics()
    for number, ref in enumerate(refs):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"evaluation cancelled after {number} of {len(refs)} cases")
        case = load_case(ref)
        if ref.kind == "labelme":
            masks = segmenter.predict_slices(case.volume, range(case.volume.num_slices))
            masks = np.stack([clean_mask(m) for m in masks]) if postprocess else masks
        else:
            masks = segmenter.predict_volume(case.volume, postprocess=postprocess, cancel=cancel)
        counts = metrics.update(masks, case.labels, case=ref.name)
        log.info("%s: Dice %.4f over %d slices", ref.name, 2 * counts.tp / max(1, 2 * counts.tp + counts.fp + counts.fn),
                 len(masks))
        if progress is not None:
            progress(number + 1, len(refs), f"evaluated {ref.name}")
    return metrics.aggregate()
