"""Editing cost on a 512x512 slice: time per edit and undo memory, against copying the whole slice per step.

Baseline (measured in the same run): Labelme's undo, which stores a full copy of the state per edit
(here a copy of the 512x512 mask). Run: .venv/bin/python benchmarks/bench_annotation.py
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from core.annotation.slice_annotation import SliceAnnotation
from core.io.loader import load_volume
from core.io.nifti import load_nifti_labels

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "okbp_pt_224"


def best_of(fn, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    volume = load_volume(SAMPLE)
    labels = load_nifti_labels(SAMPLE.parent / "okbp_pt_224_label.nii.gz", volume)
    mask = np.kron(labels[62], np.ones((4, 4), np.uint8))  # the sample's fullest slice at 512x512
    hu = np.kron(volume.hu[62], np.ones((4, 4), np.int16))
    ann = SliceAnnotation(512, 512, mask, mask.astype(bool), "edited")

    baseline = best_of(lambda: ann.mask.copy())
    full_copy_bytes = ann.mask.nbytes

    def stroke():
        with ann.stroke(8, 1, hu=hu, hu_min=200) as s:
            for x in range(150, 350, 10):
                s.add_point(x, 200)
        ann.undo_change(s.change)

    def dab():
        change = ann.paint_disk(256, 200, 8, 1)
        ann.undo_change(change)

    def vertex():
        outer = ann.polygons[0].outer
        change = ann.move_vertex(0, len(outer) // 2, *(outer[len(outer) // 2] + (6, 6)))
        ann.undo_change(change)

    with ann.stroke(8, 1) as s:
        for x in range(150, 350, 10):
            s.add_point(x, 200)
    change_bytes = sum(a.nbytes for a in (s.change.old, s.change.new, s.change.old_edited, s.change.new_edited))
    ann.undo_change(s.change)

    print(f"baseline: full 512x512 mask copy per undo step {baseline * 1e3:.3f} ms, {full_copy_bytes} bytes")
    for name, fn in (("brush dab r=8 + undo", dab), ("20-point threshold stroke + undo", stroke),
                     ("vertex drag + undo (polygons re-derived)", vertex)):
        t = best_of(fn)
        print(f"{name}: {t * 1e3:.2f} ms ({t / baseline:.0f}x the baseline copy)")
    print(f"undo memory for a 200-px stroke: {change_bytes} bytes = {change_bytes / full_copy_bytes:.3f}x a full copy")


if __name__ == "__main__":
    main()
