"""Scanner shift: the mandible's Dice on CBCT-like variants of real CTs, beside the untouched CT, with and
without grey-value calibration, in one run (issue 19 item 6; docs/decisions/200).

    .venv/bin/python benchmarks/bench_scanner_shift.py                      # the default set (below)
    .venv/bin/python benchmarks/bench_scanner_shift.py --cases head --variants hu,air300-bone1600
    .venv/bin/python benchmarks/bench_scanner_shift.py --cases okbp_pt_201,okbp_pt_207 --slice-mm 1.0

Cases: `head` (the development head, ../shared/data/cranium; Dice on its 31 trusted slices) and OpenKBP
validation cases by name (3-D Dice over the case). Default: head,okbp_pt_201,okbp_pt_207,okbp_pt_224.

Variants (benchmarks/scanner_variants.py): the CT resampled onto a CBCT's grid (--grid-mm, default 0.5;
--slice-mm, default 0.5; both the nearest whole division of the CT's own voxel, so that masks go back exactly)
within a --field-mm (default 180, the real dental scan's; the issue's trial used 146) circular field of view
centred on the mandible,
padded with 0 outside, as tall as the scored slices with mandible and 25 mm beyond (at most 165 mm, the
PostDentalSurgery CBCT of ../shared/data/cbct-label, whose 0.5 mm grid and 180 mm field set the scale), with cupping
(--cupping, 0.1) and noise (--noise-hu, 30), stored through a grey map:
  grid            HU, the grid and the crop only (no circle, cupping or noise): what resampling alone costs
  hu              HU, 0 outside the field of view
  air0-bone2000   air at 0, cortical bone (1200 HU) at 2000
  air300-bone1600 air at 300, bone at 1600
  compressed      air at 0, bone at 137.5: 16 HU a grey value
Each variant's masks (the one prediction path, refinement on) are taken back to the CT's own grid and scored
against its label, next to the untouched CT's. "without" treats the stored values as HU (the app before
calibration), "with" opens them as the app does now (core.io.grey_values.calibrate_volume).
--rtk adds "cone-beam": real cone-beam artefacts, forward projection and FDK with itk-rtk
(benchmarks/cone_beam.py: truncation by the field of view, beam-hardening cupping, Poisson noise) on a
--rtk-mm grid (default 1.0; about a minute of projection a case on a quiet CPU), when itk-rtk imports.
--known adds a column "known": each variant through its scanner's own grey map, exactly (what a perfect
calibration would give: the rest of the loss is the grid's, the cupping's and the artefacts').
--network-only scores the network's own masks (no refinement), to tell the network's loss from refinement's.
--alternatives adds a column per other calibration (benchmarks/calibration_alternatives.py: nnU-Net-style
percentile clip and z-score, histogram matching, fixed air and bone anchors) on each variant.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.calibration_alternatives import ALTERNATIVES, Reference, calibrate_with, known_calibration  # noqa: E402
from benchmarks.scanner_variants import GREY_MAPS, Scanner, make_variant, mask_on_source  # noqa: E402
from core.calibration import apply_calibration  # noqa: E402
from core.inference.postprocess import PredictionPolicy  # noqa: E402
from core.inference.segmenter import Segmenter  # noqa: E402
from core.io.grey_values import AUTO, calibrate_volume  # noqa: E402
from core.io.labels import load_labels  # noqa: E402
from core.io.loader import load_volume  # noqa: E402
from core.io.nifti import load_nifti_labels  # noqa: E402
from core.training.metrics import confusion, dice  # noqa: E402
from core.volume import Volume  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
MODEL = ROOT / "resources" / "models" / "okbp128_gpu36-int8.msmodel"
DEFAULT_CASES = "head,okbp_pt_201,okbp_pt_207,okbp_pt_224"
FIELD_MM = 180.0  # ../shared/data/cbct-label: 360 voxels of 0.5 mm across
VARIANTS = ("grid", "hu", *[name for name in GREY_MAPS if name != "hu"])


def load_case(name: str) -> tuple[Volume, np.ndarray, list[int]]:
    """(the CT as the app opens it, its label, the slices to score)."""
    if name == "head":
        volume = load_volume(SHARED / "cranium" / "dicom")
        labels = load_labels(SHARED / "cranium" / "label.nii.gz", volume) > 0
        return volume, labels, json.loads((SHARED / "cranium" / "eval_slices.json").read_text())["eval_slices"]
    folder = SHARED / "openkbp" / "validation"
    volume = load_volume(folder / "imagesTr" / f"{name}_0000.nii.gz")
    labels = load_nifti_labels(folder / "labelsTr" / f"{name}.nii.gz", volume) > 0
    return volume, labels, list(range(volume.num_slices))


def dice_on(mask: np.ndarray, labels: np.ndarray, slices: list[int]) -> float:
    return float(dice(confusion(mask[slices] > 0, labels[slices])))


def variant_volume(hu: np.ndarray, source: Volume, labels: np.ndarray, scanner: Scanner, name: str,
                   scored: tuple[int, int]):
    if name == "cone-beam":
        from benchmarks.cone_beam import cone_beam_variant

        variant = cone_beam_variant(hu, source.spacing, labels, scanner, scored)
    else:
        variant = make_variant(hu, source.spacing, labels, scanner, scored)
    volume = Volume(hu=variant.stored, spacing=variant.spacing, name=f"{source.name} {name}")
    return variant, volume


def scanner_for(name: str, args) -> Scanner:
    common = dict(field_mm=args.field_mm, grid_mm=args.grid_mm, slice_mm=args.slice_mm, seed=args.seed)
    if name == "grid":
        return Scanner(grey="hu", cupping=0.0, noise_hu=0.0, padded=False, **common)
    if name == "cone-beam":
        return Scanner(field_mm=args.field_mm, grid_mm=args.rtk_mm, slice_mm=args.rtk_mm, seed=args.seed)
    return Scanner(grey=name, cupping=args.cupping, noise_hu=args.noise_hu, **common)


def run_case(segmenter: Segmenter, name: str, variants: list[str], args) -> list[dict]:
    source, labels, slices = load_case(name)
    policy = PredictionPolicy(refine=False) if args.network_only else PredictionPolicy()

    def score(volume: Volume, variant=None) -> float:
        """Dice of the masks of `volume` (a variant's, taken back to the CT's grid) against the CT's label."""
        mask = segmenter.predict_volume(volume, policy=policy)
        return dice_on(mask if variant is None else mask_on_source(mask, variant, source.shape), labels, slices)

    start = time.perf_counter()
    untouched = score(source)
    rows = [{"case": name, "variant": "untouched", "shape": list(source.shape), "with": untouched,
             "without": untouched, "seconds": round(time.perf_counter() - start, 1)}]
    print(f"{name}: untouched {source.shape}, Dice {untouched:.4f}", flush=True)
    hu = source.hu.astype(np.float32)
    with_mandible = [k for k in slices if labels[k].any()]
    span = (min(with_mandible), max(with_mandible))
    for variant_name in variants:
        start = time.perf_counter()
        variant, raw = variant_volume(hu, source, labels, scanner_for(variant_name, args), variant_name, span)
        row = {"case": name, "variant": variant_name, "shape": list(raw.shape)}
        row.update(score_variant(lambda volume: score(volume, variant), raw, variant_name, args))
        row["seconds"] = round(time.perf_counter() - start, 1)
        rows.append(row)
        print(f"  {variant_name}: {raw.shape} {raw.hu.dtype}, with {row['with']:.4f}"
              + (f", without {row['without']:.4f}" if "without" in row else "")
              + f" ({row['seconds']} s): {row['calibration']}", flush=True)
    return rows


def score_variant(score, raw: Volume, variant_name: str, args) -> dict:
    """Dice with the app's calibration, without it (the stored values as HU), with each alternative and with the
    variant's own map, as asked."""
    calibrated = calibrate_volume(Volume(hu=raw.hu.copy(), spacing=raw.spacing, name=raw.name), AUTO)
    row = {"calibration": calibrated.calibration.describe(), "source": calibrated.calibration.source,
           "with": score(calibrated)}
    if args.without:  # nothing to calibrate: the same volume
        row["without"] = score(raw) if calibrated.calibration.changes_values() else row["with"]
    others = {name: calibrate_with(name, raw.hu, args.reference)
              for name in (ALTERNATIVES[1:] if args.reference is not None else ())}
    if args.known and variant_name != "grid":  # the grid is HU: its own map is the identity
        others["known"] = known_calibration(*known_anchors(variant_name), raw.hu)
    elif args.known:
        row["known"] = row["with"]
    for other, calibration in others.items():
        row[other] = score(Volume(hu=apply_calibration(raw.hu.copy(), calibration), spacing=raw.spacing,
                                  name=raw.name, calibration=calibration))
    return row


def known_anchors(variant_name: str) -> tuple[float, float]:
    """The stored values of air (-1000 HU) and bone (1200 HU) in a variant: what its scanner did."""
    if variant_name == "cone-beam":
        from benchmarks.cone_beam import STORED_BONE

        return 0.0, STORED_BONE
    spec = GREY_MAPS["hu" if variant_name == "grid" else variant_name]
    return spec.air, spec.bone


def table(rows: list[dict]) -> str:
    """Markdown: each row's Dice without and with calibration, and the difference with calibration from the
    untouched CT and from the same CT in HU on the CBCT's grid and field (the 'grid' row)."""
    others = [name for name in (*ALTERNATIVES[1:], "known") if any(name in row for row in rows)]
    lines = ["| Case | Variant | Grid (slices x rows x cols) | Dice without calibration | Dice with calibration "
             "| With - untouched | With - grid |" + "".join(f" {name} |" for name in others),
             "|---|---|---|---|---|---|---|" + "---|" * len(others)]
    for row in rows:
        without = f"{row['without']:.3f}" if "without" in row else "-"
        grid = _reference_dice(rows, row["case"], "grid")
        vs_grid = f"{row['with'] - grid:+.3f}" if grid is not None and row["variant"] != "untouched" else "-"
        lines.append(f"| {row['case']} | {row['variant']} | {' x '.join(map(str, row['shape']))} | {without} "
                     f"| {row['with']:.3f} | {row['with'] - _reference_dice(rows, row['case'], 'untouched'):+.3f} "
                     f"| {vs_grid} |" + "".join(f" {row[name]:.3f} |" if name in row else " - |" for name in others))
    return "\n".join(lines)


def _reference_dice(rows: list[dict], case: str, variant: str) -> float | None:
    return next((row["with"] for row in rows if row["case"] == case and row["variant"] == variant), None)


def reference(args) -> Reference:
    """The bundled sample CT through the variants' field of view, in HU (benchmarks/calibration_alternatives.py)."""
    sample = load_volume(ROOT / "resources" / "samples" / "okbp_pt_224")
    labels = load_nifti_labels(ROOT / "resources" / "samples" / "okbp_pt_224_label.nii.gz", sample) > 0
    scanner = Scanner(grey="hu", cupping=0.0, noise_hu=0.0, field_mm=args.field_mm, grid_mm=2.0, slice_mm=2.0)
    return Reference(make_variant(sample.hu.astype(np.float32), sample.spacing, labels, scanner).stored)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="head and/or OpenKBP validation case names")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"some of {','.join(VARIANTS)}")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--grid-mm", type=float, default=0.5)
    parser.add_argument("--slice-mm", type=float, default=0.5)
    parser.add_argument("--field-mm", type=float, default=FIELD_MM,
                        help="field of view's diameter (default %(default)s: the PostDentalSurgery CBCT's 180 mm)")
    parser.add_argument("--cupping", type=float, default=0.1)
    parser.add_argument("--noise-hu", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-without", dest="without", action="store_false",
                        help="leave out the runs without calibration (half the time)")
    parser.add_argument("--rtk", action="store_true", help="also the cone-beam variant (itk-rtk)")
    parser.add_argument("--rtk-mm", type=float, default=1.0, help="the cone-beam variant's voxel size")
    parser.add_argument("--alternatives", action="store_true",
                        help="also score the other calibrations (z-score, histogram matching, air and bone)")
    parser.add_argument("--network-only", action="store_true",
                        help="masks without refinement (the network's probability > 0.5): what the grid costs the network")
    parser.add_argument("--known", action="store_true",
                        help="also score each variant through its own grey map, exactly (the best a calibration can do)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    if args.rtk:
        from benchmarks.cone_beam import available

        if available():
            variants.append("cone-beam")
        else:
            print("itk-rtk does not import here (pip install itk-rtk): no cone-beam variant", flush=True)
    unknown = sorted(set(variants) - set(VARIANTS) - {"cone-beam"})
    if unknown:
        print(f"error: unknown variants {unknown}; choose from {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    args.reference = reference(args) if args.alternatives else None
    segmenter = Segmenter.from_file(args.model)
    print(f"{machine()}\nmodel {args.model.name}, network {segmenter.runtime.describe()}", flush=True)
    rows = []
    for name in [c for c in args.cases.split(",") if c]:
        rows.extend(run_case(segmenter, name, variants, args))
    print(table(rows))
    for base in ("untouched", "grid"):
        drops = [row["with"] - _reference_dice(rows, row["case"], base) for row in rows
                 if row["variant"] not in ("untouched", "grid") and _reference_dice(rows, row["case"], base) is not None]
        if drops:
            print(f"largest drop with calibration from the {base} CT: {min(drops):+.3f} (acceptance: within 0.03)")
    print(machine())
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
