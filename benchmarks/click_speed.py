"""`bench_clicks.py --speed`: the time of a click on a CBCT-sized volume beside one slice's prediction, same run.

The development head (../shared/data/cranium) is resampled to the asked grid (linear for the CT and the
network's probability, nearest for the label), so the anatomy, the network's errors and the user's clicks are
real, at CBCT resolution. Each click is timed from reading its box to the box's new mask (solve_click);
one slice's prediction is `Segmenter.predict(volume, [k])`, the app's Segment This Slice.
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from benchmarks.click_user import click_user, dice
from core.errors import InputError
from core.inference.click_graph_cut import GraphCut
from core.inference.clicks import Click, click_box
from core.inference.postprocess import PredictionPolicy, volume_masks
from core.io.labels import load_labels
from core.io.loader import load_volume
from core.volume import Volume

HEAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "cranium"


def resampled_head(segmenter, cache, rows: int, cols: int, slices: int) -> tuple[Volume, np.ndarray, np.ndarray]:
    """(volume, label, probability) of the head on a rows x cols x slices grid."""
    if not HEAD.is_dir():
        raise InputError(f"--speed needs the development head in {HEAD} (../shared)")
    head = load_volume(HEAD / "dicom")
    label = load_labels(HEAD / "label.nii.gz", head) > 0
    probability = cache.get(segmenter, head, f"{HEAD.name}-dicom")
    factors = (slices / head.shape[0], rows / head.shape[1], cols / head.shape[2])
    hu = ndimage.zoom(np.asarray(head.hu, np.float32), factors, order=1).astype(np.int16)
    spacing = tuple(float(s) / f for s, f in zip(head.spacing, factors))
    volume = Volume(hu, spacing, f"{head.name} at {rows}x{cols}x{slices}", origin=head.origin,
                    direction=head.direction)
    return (volume, ndimage.zoom(label, factors, order=0),
            ndimage.zoom(probability.astype(np.float32), factors, order=1).astype(np.float16))


def slice_seconds(segmenter, volume: Volume, label: np.ndarray, repeats: int = 3) -> list[float]:
    """Seconds of `Segmenter.predict` of one slice, on slices through the mandible (after one warm-up)."""
    through = np.flatnonzero(label.any(axis=(1, 2)))
    picks = through[np.linspace(0, len(through) - 1, repeats + 1).astype(int)]
    times = []
    for number, index in enumerate(picks):
        began = time.perf_counter()
        list(segmenter.predict(volume, [int(index)]))
        if number:  # the first is the warm-up
            times.append(time.perf_counter() - began)
    return times


def speed(segmenter, cache, size: list[int], clicks: int) -> int:
    rows, cols, slices = size
    print(f"Machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"wall-clock, compare the ratio")
    volume, label, probability = resampled_head(segmenter, cache, rows, cols, slices)
    network_mm = segmenter.config.mm_per_pixel
    spacing_text = " x ".join(f"{s:.3f}" for s in volume.spacing)
    print(f"Volume: {slices} slices of {rows} x {cols}, {spacing_text} mm (the development head resampled)")
    solver = GraphCut()
    box = click_box(_centre(label), volume.shape, volume.spacing, solver.region(volume.spacing, network_mm))
    print("A click's box: " + " x ".join(str(s.stop - s.start) for s in box) + " voxels")
    start = volume_masks(volume, probability, PredictionPolicy(refine=False), network_mm) > 0
    curve, _ = click_user(volume.hu, start, label, probability, volume.spacing, clicks,
                          lambda mask: dice(mask, label), volume.units, network_mm, solver)
    per_slice = float(np.median(slice_seconds(segmenter, volume, label)))
    p50, p95 = np.percentile(curve.seconds, [50, 95])
    print(f"Per click ({len(curve.seconds)} clicks): median {p50:.2f} s, p95 {p95:.2f} s, "
          f"max {max(curve.seconds):.2f} s")
    print(f"One slice's prediction (Segmenter.predict, median of 3): {per_slice:.2f} s")
    print(f"Ratio: a click's p95 = {p95 / per_slice:.2f} x one slice's prediction")
    print("Dice on the resampled head: " + " ".join(f"{d:.3f}" for d in curve.dices))
    return 0


def _centre(label: np.ndarray) -> Click:
    where = np.argwhere(label)
    return Click(*(int(v) for v in where[len(where) // 2]))
