"""Mask -> Labelme polygons -> mask at the GUI's 512x512 size, against plain contour tracing.

    .venv/bin/python benchmarks/bench_polygons.py

Baseline (same run): cv2.findContours alone on the same mask. Our conversion adds hole tracing,
Labelme-exact rasterization and the exactness check; the ratio says what that costs.
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np

from core.annotation.polygons import mask_to_shapes, shapes_to_mask

LABELS = Path(__file__).resolve().parents[2] / "shared/data/openkbp/validation/labelsTr/okbp_pt_224.nii.gz"


def _masks() -> list[np.ndarray]:
    labels = np.asarray(nib.load(LABELS).dataobj).transpose(2, 1, 0) > 0
    masks = []
    for mask in labels[labels.any(axis=(1, 2))]:
        big = cv2.resize(mask.astype(np.uint8), (512, 512), interpolation=cv2.INTER_NEAREST)
        yy, xx = np.nonzero(cv2.erode(big, np.ones((9, 9), np.uint8)))
        if len(yy):  # a marrow-like hole in every slice thick enough for one
            big[yy[len(yy) // 2] - 2:yy[len(yy) // 2] + 2, xx[len(xx) // 2] - 2:xx[len(xx) // 2] + 2] = 0
        masks.append(big)
    return masks


def _time(fn, masks, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for mask in masks:
            fn(mask)
        best = min(best, time.perf_counter() - start)
    return best / len(masks)


def main() -> None:
    masks = _masks()
    baseline = _time(lambda m: cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE), masks)
    to_shapes = _time(mask_to_shapes, masks)
    shapes = [mask_to_shapes(m) for m in masks]
    start = time.perf_counter()
    exact = sum(np.array_equal(shapes_to_mask(s, 512, 512), m) for s, m in zip(shapes, masks))
    to_mask = (time.perf_counter() - start) / len(masks)
    points = np.mean([sum(len(s.points) for s in shape_list) for shape_list in shapes])
    print(f"{len(masks)} slices 512x512 (okbp_pt_224 labels, upsampled, one hole each)")
    print(f"cv2.findContours baseline   {baseline * 1e3:7.2f} ms/slice  1.00x")
    print(f"mask_to_shapes              {to_shapes * 1e3:7.2f} ms/slice  {to_shapes / baseline:5.1f}x")
    print(f"shapes_to_mask              {to_mask * 1e3:7.2f} ms/slice  {to_mask / baseline:5.1f}x")
    print(f"exact round trips           {exact}/{len(masks)}; mean {points:.0f} vertices per slice")


if __name__ == "__main__":
    main()
