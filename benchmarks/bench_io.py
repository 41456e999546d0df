"""DICOM loading speed against plain pydicom, measured in the same run.

Writes a synthetic 300-slice 512x512 uncompressed CT series into a temporary folder, then times:
  header scan  scan_dicom_folder                      vs dcmread(stop_before_pixels=True) of every file
  full load    load_dicom_series (HU, canonical)      vs dcmread + pixel_array of every file
and the same on the shared series when ../shared is present. Prints ms per file and ratios.

    .venv/bin/python benchmarks/bench_io.py [--slices 300] [--size 512] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.dicom import load_dicom_series, scan_dicom_folder  # noqa: E402

SHARED_SERIES = ["okbp_pt_201", "okbp_pt_224_rle"]


def write_synthetic_series(folder: Path, slices: int, size: int) -> None:
    """An axial CT series with random-ish HU+1024 pixel data, files named in shuffled order."""
    rng = np.random.default_rng(0)
    uids = generate_uid(), generate_uid(), generate_uid()
    names = rng.permutation(slices)
    pixels = rng.integers(0, 4096, size=(size, size), dtype=np.uint16)
    for i in range(slices):
        write_ct_slice(folder / f"{names[i]:06d}", np.roll(pixels, i, axis=0), i, (1.0, 0.5, 0.5), uids,
                       "SYNTHETIC", [-128.0, -128.0, -float(i)])


def write_ct_slice(path: Path, stored: np.ndarray, index: int, spacing, uids: tuple[str, str, str],
                   description: str, position) -> None:
    """One uncompressed axial CT slice: `stored` uint16 values (HU + 1024), spacing (slice, row, col) mm, the
    (series, study, frame of reference) UIDs, the position of its first pixel."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = uids
    ds.Modality, ds.SeriesDescription, ds.PatientName = "CT", description, "Bench^Synthetic"
    ds.InstanceNumber, ds.SliceThickness = index + 1, spacing[0]
    ds.ImagePositionPatient = list(position)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [spacing[1], spacing[2]]
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = np.ascontiguousarray(stored, np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline_headers(files: list[Path]) -> None:
    for f in files:
        pydicom.dcmread(f, stop_before_pixels=True)


def baseline_full(files: list[Path]) -> None:
    for f in files:
        pydicom.dcmread(f).pixel_array


def bench(folder: Path, label: str, repeat: int) -> None:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.suffix == ".md")
    n = len(files)
    base_scan = best_of(repeat, lambda: baseline_headers(files)) / n * 1e3
    ours_scan = best_of(repeat, lambda: scan_dicom_folder(folder)) / n * 1e3
    base_load = best_of(repeat, lambda: baseline_full(files)) / n * 1e3
    ours_load = best_of(repeat, lambda: load_dicom_series(folder)) / n * 1e3
    print(f"{label}: {n} files")
    print(f"  header scan  ours {ours_scan:6.3f} ms/file   pydicom header-only {base_scan:6.3f} ms/file"
          f"   ratio {ours_scan / base_scan:5.2f}")
    print(f"  full load    ours {ours_load:6.3f} ms/slice  pydicom dcmread+pixel_array {base_load:6.3f} ms/slice"
          f"   ratio {ours_load / base_load:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_synthetic_series(folder, args.slices, args.size)
        bench(folder, f"synthetic {args.slices}x{args.size}x{args.size} uncompressed", args.repeat)
    for name in SHARED_SERIES:
        folder = ROOT.parent / "shared" / "data" / "dicom" / name
        if folder.is_dir():
            bench(folder, f"shared {name} (128x128)", args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
