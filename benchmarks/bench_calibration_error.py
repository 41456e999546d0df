"""How far each calibration puts a CBCT-like variant's air, soft tissue and bone from their HU, without the network:
the median absolute error (HU) against the same CT in HU on the same grid, per tissue (issue 19; decision 200).

    .venv/bin/python benchmarks/bench_calibration_error.py [--cases head,okbp_pt_201] [--variants ...]

The variants, calibrations and reference are those of benchmarks/bench_scanner_shift.py (--alternatives); the
truth is the 'grid' variant (HU, no cupping or noise), classed by its HU: air below -500, soft tissue -150 to
150, bone above 400. Seconds a case: tens on a quiet machine (no network is run).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scanner_shift import VARIANTS, load_case, machine, reference, scanner_for  # noqa: E402
from benchmarks.calibration_alternatives import ALTERNATIVES, calibrate_with  # noqa: E402
from benchmarks.scanner_variants import make_variant  # noqa: E402
from core.calibration import apply_calibration  # noqa: E402
from core.calibration.field_of_view import padding_mask  # noqa: E402

TISSUES = {"air": (-2000.0, -500.0), "soft tissue": (-150.0, 150.0), "bone": (400.0, 4000.0)}


def errors(calibrated: np.ndarray, truth: np.ndarray, inside: np.ndarray) -> dict[str, float]:
    out = {}
    for tissue, (low, high) in TISSUES.items():
        where = inside & (truth >= low) & (truth < high)
        out[tissue] = float(np.median(np.abs(calibrated[where].astype(np.float32) - truth[where]))) if where.any() \
            else float("nan")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="head,okbp_pt_201,okbp_pt_207")
    parser.add_argument("--variants", default=",".join(v for v in VARIANTS if v != "grid"))
    parser.add_argument("--grid-mm", type=float, default=0.5)
    parser.add_argument("--slice-mm", type=float, default=1.0)
    parser.add_argument("--field-mm", type=float, default=180.0)
    parser.add_argument("--cupping", type=float, default=0.1)
    parser.add_argument("--noise-hu", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ref = reference(args)
    print(machine())
    print("| Case | Variant | Calibration | air | soft tissue | bone |\n|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        source, labels, slices = load_case(case)
        with_mandible = [k for k in slices if labels[k].any()]
        span = (min(with_mandible), max(with_mandible))
        hu = source.hu.astype(np.float32)
        truth = make_variant(hu, source.spacing, labels, scanner_for("grid", args), span).stored
        for name in args.variants.split(","):
            stored = make_variant(hu, source.spacing, labels, scanner_for(name, args), span).stored
            inside = ~np.stack([padding_mask(plane, (0.0, 0.0)) for plane in stored])  # not the padding
            for method in ALTERNATIVES:
                calibration = calibrate_with(method, stored, ref)
                calibrated = apply_calibration(stored.copy(), calibration)
                e = errors(calibrated, truth, inside)
                print(f"| {case} | {name} | {method} | {e['air']:.0f} | {e['soft tissue']:.0f} | {e['bone']:.0f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
