"""Multi-frame DICOM against the single-frame series it was made from, measured in the same run.

For each series it writes, into a temporary folder, highdicom's Legacy Converted Enhanced CT of it (the
source's transfer syntax) and an Enhanced CT (frames shuffled, per-frame rescale, RLE: tests/support/multiframe.py),
then times, per slice, the header scan (scan_dicom_folder) and the full load (load_volume) of each, beside the
single-frame folder (the baseline). It checks that every load gives the same voxels.

    .venv/bin/python benchmarks/bench_dicom_multiframe.py [--repeat 3] [--frames 300]

Series: ../shared/data/dicom/okbp_pt_201 (uncompressed), okbp_pt_224_rle (RLE), the development head
(../shared/data/cranium/dicom), and a synthetic uncompressed series of --frames slices of 512x512.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_io import best_of, write_synthetic_series  # noqa: E402
from core.io.dicom import scan_dicom_folder  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from tests.support.multiframe import enhanced_ct, legacy_converted  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SERIES = {"okbp_pt_201": SHARED / "dicom" / "okbp_pt_201", "okbp_pt_224_rle": SHARED / "dicom" / "okbp_pt_224_rle",
          "cranium": SHARED / "cranium" / "dicom"}


def measure(name: str, source: Path, work: Path, repeat: int, enhanced: bool = True) -> None:
    reference = load_volume(source)
    slices = reference.num_slices
    files = {"single-frame": source,
             "legacy converted": legacy_converted(source, work / name / "legacy" / "ct.dcm").parent}
    if enhanced:  # pydicom's RLE encoder (pure Python) takes minutes on hundreds of 512² frames
        files["enhanced CT (RLE)"] = enhanced_ct(source, work / name / "enhanced" / "ct.dcm").parent
    base_scan = base_load = None
    for kind, folder in files.items():
        assert np.array_equal(load_volume(folder).hu, reference.hu), f"{name} {kind}: other voxels"
        scan = best_of(repeat, lambda: scan_dicom_folder(folder)) * 1000 / slices
        load = best_of(repeat, lambda: load_volume(folder)) * 1000 / slices
        base_scan, base_load = base_scan or scan, base_load or load
        print(f"| {name} ({slices} slices) | {kind} | {scan:.3f} (x{scan / base_scan:.2f}) | "
              f"{load:.3f} (x{load / base_load:.2f}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    print("| Series | File | Header scan, ms/slice (x single-frame) | Full load, ms/slice (x single-frame) |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, source in SERIES.items():
            if source.is_dir():
                measure(name, source, work, args.repeat)
        (work / "synthetic" / "single").mkdir(parents=True)
        write_synthetic_series(work / "synthetic" / "single", args.frames, 512)
        measure(f"synthetic {args.frames} x 512²", work / "synthetic" / "single", work, args.repeat, enhanced=False)
    print(f"(best of {args.repeat}; every multi-frame load equal voxel for voxel to its single-frame series)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
