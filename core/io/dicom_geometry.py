"""Slice order and voxel geometry of a DICOM series, from ImagePositionPatient / ImageOrientationPatient.

Slices are sorted by their position projected on the slice normal (row direction x column
direction); without positions they fall back to InstanceNumber. The spacing between slices comes
from the positions (median step), else SpacingBetweenSlices, else SliceThickness. Without
positions the InstanceNumber order is assumed to run from head to feet. The affine
returned maps the index [slice, row, col] of the stacked (not yet canonical) array to LPS mm.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.errors import DicomSeriesError

if TYPE_CHECKING:
    from core.io.dicom import SliceHeader

_AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_SAME_POSITION_MM = 1e-3


# Warnings that mean the voxel size is a guess (Volume.spacing_known is False then).
NO_SLICE_SPACING = "No slice spacing in the headers: 1 mm is assumed."
NO_PIXEL_SPACING = "PixelSpacing missing: 1 mm pixels are assumed."


def _orientation(headers: list["SliceHeader"], warnings: list[str]) -> np.ndarray:
    given = [h.orientation for h in headers if h.orientation is not None]
    if not given:
        warnings.append("ImageOrientationPatient missing: slices are assumed to be axial.")
        return np.array(_AXIAL)
    first = np.array(given[0])
    if any(not np.allclose(first, g, atol=1e-4) for g in given):
        raise DicomSeriesError("The series mixes slice orientations (a localizer in the same series?); "
                               "remove the odd files or choose another series.")
    return first


def _sort(headers, normal, warnings):
    """(ordered headers, positions along the normal or None)."""
    if all(h.position is not None for h in headers):
        along = np.array([np.dot(h.position, normal) for h in headers])
        order = np.argsort(along, kind="stable")
        kept, proj = [order[0]], [along[order[0]]]
        for i in order[1:]:
            if along[i] - proj[-1] > _SAME_POSITION_MM:
                kept.append(i)
                proj.append(along[i])
        if len(kept) < len(headers):
            warnings.append(f"{len(headers) - len(kept)} slice(s) repeat the position of another slice "
                            "and were left out.")
        return [headers[i] for i in kept], np.array(proj)
    if len(headers) > 1:
        warnings.append("ImagePositionPatient missing: slices are ordered by InstanceNumber.")
    ordered = sorted(headers, key=lambda h: (h.instance_number is None, h.instance_number or 0, h.path.name))
    return ordered, None


def _slice_step(ordered, proj, warnings) -> float:
    if proj is not None and len(proj) > 1:
        steps = np.diff(proj)
        step = float(np.median(steps))
        gaps = np.flatnonzero(steps > 1.5 * step)
        if gaps.size:
            warnings.append(f"{gaps.size} gap(s) in the series, the first of {steps[gaps[0]]:.2f} mm after "
                            f"slice {gaps[0]} (usual step {step:.2f} mm): slices may be missing.")
        elif steps.max() - steps.min() > max(0.01 * step, 0.01):
            warnings.append(f"Uneven slice spacing ({steps.min():.3f} to {steps.max():.3f} mm); "
                            f"{step:.3f} mm is used.")
        return step
    first = ordered[0]
    for value in (first.spacing_between_slices, first.slice_thickness):
        if value:
            return abs(float(value))
    if len(ordered) > 1:
        warnings.append(NO_SLICE_SPACING)
    return 1.0


def order_slices(headers: list["SliceHeader"]) -> tuple[list["SliceHeader"], np.ndarray, list[str]]:
    """Sort the slices; return (ordered headers, 4x4 index->LPS affine, warnings)."""
    warnings: list[str] = []
    iop = _orientation(headers, warnings)
    row_dir, col_dir = iop[:3], iop[3:]  # along a row (columns increase), along a column (rows increase)
    normal = np.cross(row_dir, col_dir)
    ordered, proj = _sort(headers, normal, warnings)
    step = _slice_step(ordered, proj, warnings)
    first = ordered[0]
    row_spacing, col_spacing = first.pixel_spacing or (1.0, 1.0)
    if first.pixel_spacing is None:
        warnings.append(NO_PIXEL_SPACING)
    # Without positions, InstanceNumber order is taken as head to feet (slice 0 stays first).
    slice_vector = normal * step if proj is not None else -normal * step
    if proj is not None and len(ordered) > 1:
        travel = np.subtract(ordered[-1].position, first.position) / (len(ordered) - 1)
        tilt = np.degrees(np.arccos(np.clip(abs(np.dot(travel, normal)) / np.linalg.norm(travel), 0, 1)))
        if tilt > 0.5:
            warnings.append(f"Slices are tilted by {tilt:.1f} degrees (gantry tilt); shown without correction.")
            slice_vector = travel
    affine = np.eye(4)
    affine[:3, 0] = slice_vector
    affine[:3, 1] = col_dir * row_spacing
    affine[:3, 2] = row_dir * col_spacing
    affine[:3, 3] = first.position if first.position is not None else (0.0, 0.0, 0.0)
    return ordered, affine, warnings
