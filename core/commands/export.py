"""`python main.py export`: the mandible as a mesh (STL/PLY/OBJ), a NIfTI label volume and/or a DICOM SEG.

Prints one JSON line: {"volume_ml", "area_cm2", "watertight", "faces"} of the mesh.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from core.annotation.label_volume import (EXPORTABLE_STATUSES, assemble_label_volume, fill_gap_slices,
                                          find_gaps, require_geometry, require_labels, slice_ranges)
from core.annotation.slice_status import SliceStatus
from core.errors import ExportError
from core.io.files import prepare_output_file
from core.io.mesh import MeshOptions, build_mesh
from core.workspace.case_store import CASE_FILE, CaseStore

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, type=Path, help="the CT: a DICOM folder or a NIfTI file")
    parser.add_argument("--labels", required=True, type=Path,
                        help="a NIfTI label volume, a folder of Labelme JSON (<NNNN>.json) as convert writes, "
                             "or a workspace case folder (the one holding case.json)")
    parser.add_argument("--statuses", default="predicted,edited,reviewed",
                        help="for a workspace case: which slices to use (default %(default)s)")
    parser.add_argument("--series", default=None, help="SeriesInstanceUID when the DICOM folder holds several")
    parser.add_argument("--stl", type=Path, help="mesh output (.stl binary; .ply and .obj work too)")
    parser.add_argument("--nifti", type=Path, help="label volume output (.nii.gz) with the CT's affine")
    parser.add_argument("--dicom-seg", type=Path, help="DICOM SEG output referencing the CT series (DICOM input only)")
    parser.add_argument("--smooth", type=int, default=10, help="Taubin smoothing iterations (default 10, 0 = none)")
    parser.add_argument("--faces", type=int, default=None, help="decimate the mesh to about this many faces")
    parser.add_argument("--largest", action="store_true",
                        help="keep only the large parts: the largest and any at least a quarter of its size")
    parser.add_argument("--min-part-ml", type=float, default=MeshOptions.min_part_ml,
                        help="drop connected parts smaller than this many mL (default %(default)s)")
    parser.add_argument("--fill-gaps", action="store_true",
                        help="fill empty slices inside the mandible by interpolating their neighbours")


def run(args: argparse.Namespace) -> int:
    from core.io.loader import load_volume

    logging.getLogger("highdicom").setLevel(logging.WARNING)  # it logs every module it copies
    if args.smooth < 0:
        raise ExportError("--smooth must be 0 or more iterations")
    for option in ("stl", "nifti", "dicom_seg"):  # a bad output place is said before the long work
        if getattr(args, option) is not None:
            prepare_output_file(getattr(args, option), "--" + option.replace("_", "-"))
    volume = load_volume(args.input, series_uid=args.series)
    require_geometry(volume)
    include = _statuses(args.statuses)
    labels = require_labels(load_case_labels(args.labels, volume, include), volume)
    gaps = find_gaps(labels)
    if gaps:
        action = "filling them" if args.fill_gaps else "use --fill-gaps to interpolate them"
        log.warning("%d empty slices inside the mandible (%s); %s", len(gaps), slice_ranges(gaps), action)
        if args.fill_gaps:
            labels = fill_gap_slices(labels, volume.spacing[1:])
    if args.dicom_seg is not None:
        from core.io.dicom_seg import source_datasets

        source_datasets(volume)  # fail before any file is written when the CT is not DICOM
    options = MeshOptions(smooth_iterations=args.smooth, target_faces=args.faces,
                          keep_largest=args.largest, min_part_ml=args.min_part_ml)
    result = build_mesh(labels, volume, options)
    _write_outputs(args, result.mesh, labels, volume)
    summary = result.summary()
    summary["gaps"] = len(gaps)
    print(json.dumps(summary))
    return 0


def _statuses(names: str) -> list[SliceStatus]:
    """--statuses "predicted,edited" as SliceStatus values; ExportError naming the choices otherwise."""
    chosen = [name.strip().lower() for name in names.split(",") if name.strip()]
    known = {status.value: status for status in EXPORTABLE_STATUSES}
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise ExportError(f"--statuses takes a comma-separated list of {', '.join(known)}, not {names!r}")
    return [known[name] for name in chosen]


def load_case_labels(path: Path, volume, include=EXPORTABLE_STATUSES):
    """Labels from a workspace case folder (slices whose status is in `include`), a NIfTI file or a Labelme folder."""
    if (Path(path) / CASE_FILE).is_file():
        content = CaseStore(path).load(volume.shape)
        masks = {index: annotation.mask for index, annotation in content.annotations.items()}
        for warning in content.warnings:
            log.warning("%s: %s", path, warning)
        return assemble_label_volume(volume, masks, content.statuses, include).labels
    from core.io.labels import load_labels

    return load_labels(path, volume)


def _write_outputs(args, mesh, labels, volume) -> None:
    from core.io.mesh_export import export_label_nifti, export_mesh

    if args.stl is not None:
        export_mesh(args.stl, mesh)
    if args.nifti is not None:
        export_label_nifti(args.nifti, labels, volume)
    if args.dicom_seg is not None:
        from core.io.dicom_seg import export_dicom_seg

        export_dicom_seg(args.dicom_seg, labels, volume)
