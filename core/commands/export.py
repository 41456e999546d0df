"""`python main.py export`: the mandible as a mesh (STL/PLY/OBJ), a NIfTI label volume, a DICOM SEG and/or the
case's saved slices as a Labelme dataset. One option per format of core.export.exporters.EXPORTERS.

Prints one JSON line: {"volume_ml", "area_cm2", "watertight", "faces", "gaps"} of the mesh, and for a Labelme
dataset {"labelme_dataset": its folder, "slices": how many}.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from core.annotation.label_volume import (DEFAULT_EXPORT_STATUSES, EXPORTABLE_STATUSES, assemble_label_volume,
                                          fill_gap_slices, find_gaps, require_geometry, require_labels,
                                          slice_ranges)
from core.annotation.slice_status import SliceStatus
from core.errors import ExportError
from core.export.case_folder import case_folder
from core.export.exporters import EXPORTERS, ExportSource
from core.export.labelme_dataset import earlier_export
from core.io.files import prepare_output_file, prepare_output_folder
from core.io.mesh import MeshOptions, build_mesh
from core.workspace.case_store import CASE_FILE, CaseStore

log = logging.getLogger(__name__)
DATASET = EXPORTERS["labelme_dataset"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", type=Path, help="the CT: a DICOM folder or a NIfTI file (needed for every "
                                                   "format but the Labelme dataset)")
    parser.add_argument("--labels", required=True, type=Path,
                        help="a NIfTI label volume, a folder of Labelme JSON (<NNNN>.json) as convert writes, "
                             "or a workspace case folder (the one holding case.json)")
    parser.add_argument("--statuses", default=",".join(s.value for s in DEFAULT_EXPORT_STATUSES),
                        help="for a workspace case: which slices to use (default %(default)s)")
    parser.add_argument("--series", default=None, help="SeriesInstanceUID when the DICOM folder holds several")
    for exporter in EXPORTERS.values():
        parser.add_argument(exporter.flag, type=Path, dest=exporter.key, help=exporter.help,
                            metavar="FOLDER" if exporter.writes_folder else "FILE")
    parser.add_argument("--replace", action="store_true",
                        help="replace an earlier Labelme dataset export of the same case in FOLDER/<case>/")
    parser.add_argument("--smooth", type=int, default=10, help="Taubin smoothing iterations (default 10, 0 = none)")
    parser.add_argument("--faces", type=int, default=None, help="decimate the mesh to about this many faces")
    parser.add_argument("--largest", action="store_true",
                        help="keep only the large parts: the largest and any at least a quarter of its size")
    parser.add_argument("--min-part-ml", type=float, default=MeshOptions.min_part_ml,
                        help="drop connected parts smaller than this many mL (default %(default)s)")
    parser.add_argument("--fill-gaps", action="store_true",
                        help="fill empty slices inside the mandible by interpolating their neighbours")


def run(args: argparse.Namespace) -> int:
    logging.getLogger("highdicom").setLevel(logging.WARNING)  # it logs every module it copies
    if args.smooth < 0:
        raise ExportError("--smooth must be 0 or more iterations")
    include = _statuses(args.statuses)
    files = [e for e in EXPORTERS.values() if not e.writes_folder and getattr(args, e.key) is not None]
    for exporter in files:  # a bad output place is said before the long work
        prepare_output_file(getattr(args, exporter.key), exporter.flag)
    summary = {}
    if getattr(args, DATASET.key) is not None:
        summary.update(_export_dataset(args, include))
    if files or summary == {}:  # the mesh's facts are the summary when nothing else was asked
        summary.update(_export_volume(args, include, files))
    print(json.dumps(summary))
    return 0


def _export_dataset(args: argparse.Namespace, include: list[SliceStatus]) -> dict:
    """The case's saved slices, copied exactly into FOLDER/<case>/ (never over another case's, never over an
    earlier export of this case without --replace)."""
    if not (Path(args.labels) / CASE_FILE).is_file():
        raise ExportError(f"{DATASET.flag} copies a workspace case's saved slices: give --labels the case folder "
                          "(the one holding case.json); for a NIfTI label volume use 'main.py convert'")
    store = CaseStore(args.labels)
    root = prepare_output_folder(getattr(args, DATASET.key), DATASET.flag)
    folder = case_folder(root, store.case_id, store.record.display_name)
    if earlier_export(folder) and not args.replace:
        raise ExportError(f"{folder.path} already holds an export of this case; pass --replace to replace it, or "
                          "choose another folder")
    written = DATASET.write(folder, ExportSource(store=store, include=include))
    return {"labelme_dataset": str(written.folder), "slices": len(written.slices)}


def _export_volume(args: argparse.Namespace, include: list[SliceStatus], files: list) -> dict:
    from core.io.loader import load_volume

    if args.input is None:
        raise ExportError("--input (the CT) is needed for a mesh, NIfTI or DICOM SEG export")
    volume = load_volume(args.input, series_uid=args.series)
    require_geometry(volume)
    labels = require_labels(load_case_labels(args.labels, volume, include), volume)
    gaps = find_gaps(labels)
    if gaps:
        action = "filling them" if args.fill_gaps else "use --fill-gaps to interpolate them"
        log.warning("%d empty slices inside the mandible (%s); %s", len(gaps), slice_ranges(gaps), action)
        if args.fill_gaps:
            labels = fill_gap_slices(labels, volume.spacing[1:])
    if any(e.needs_dicom for e in files):
        from core.io.dicom_seg import source_datasets

        source_datasets(volume)  # fail before any file is written when the CT is not DICOM
    options = MeshOptions(smooth_iterations=args.smooth, target_faces=args.faces,
                          keep_largest=args.largest, min_part_ml=args.min_part_ml)
    result = build_mesh(labels, volume, options)
    source = ExportSource(volume=volume, labels=labels, mesh=result.mesh)
    for exporter in files:
        exporter.write(getattr(args, exporter.key), source)
    summary = result.summary()
    summary["gaps"] = len(gaps)
    return summary


def _statuses(names: str) -> list[SliceStatus]:
    """--statuses "predicted,edited" as SliceStatus values; ExportError naming the choices otherwise."""
    chosen = [name.strip().lower() for name in names.split(",") if name.strip()]
    known = {status.value: status for status in EXPORTABLE_STATUSES}
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise ExportError(f"--statuses takes a comma-separated list of {', '.join(known)}, not {names!r}")
    return [known[name] for name in chosen]


def load_case_labels(path: Path, volume, include=DEFAULT_EXPORT_STATUSES):
    """Labels from a workspace case folder (slices whose status is in `include`), a NIfTI file or a Labelme folder."""
    if (Path(path) / CASE_FILE).is_file():
        content = CaseStore(path).load(volume.shape)
        masks = {index: annotation.mask for index, annotation in content.annotations.items()}
        for warning in content.warnings:
            log.warning("%s: %s", path, warning)
        return assemble_label_volume(volume, masks, content.statuses, include).labels
    from core.io.labels import load_labels

    return load_labels(path, volume)
