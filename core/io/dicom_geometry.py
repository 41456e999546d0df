"""Slice order and voxel geometry of a DICOM series, from ImagePositionPatient / ImageOrientationPatient.

Slices are sorted by their position projected on the slice normal (row direction x column
direction); without positions they fall back to InstanceNumber. The spacing between slices comes
from the positions (median step), else SpacingBetweenSlices, else SliceThickness. Without
positions the InstanceNumber order is assumed to run from head to feet. The affine
returned maps the index [slice, row, col] of the stacked (not yet canonical) array to LPS mm.

Values no scanner writes (an all-zero orientation, a position of 1e300 mm, a pixel of 0 or
2 km) are treated as missing, with a warning that names them (core.io.limits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import DicomSeriesError
from core.io.dicom_scan import SliceHeader
from core.io.limits import valid_position, valid_spacing

_AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_SAME_POSITION_MM = 1e-3
# Direction cosines must be unit vectors at right angles, up to the rounding scanners write.
_COSINE_TOLERANCE = 0.05

NO_SLICE_SPACING = "No slice spacing in the headers: 1 mm is assumed."
NO_PIXEL_SPACING = "PixelSpacing missing: 1 mm pixels are assumed."


@dataclass
class SliceOrder:
    """The slices of a series in order, where they lie, and what had to be assumed."""

    headers: list[SliceHeader]
    affine: np.ndarray  # 4x4, index [slice, row, col] of the stacked array -> LPS mm
    warnings: list[str]
    spacing_known: bool  # False when a voxel size had to be assumed (1 mm)


def _valid_orientation(values) -> bool:
    cosines = np.asarray(values, float)
    if not np.all(np.isfinite(cosines)):
        return False
    row, col = cosines[:3], cosines[3:]
    return (abs(np.linalg.norm(row) - 1) <= _COSINE_TOLERANCE and abs(np.linalg.norm(col) - 1) <= _COSINE_TOLERANCE
            and abs(np.dot(row, col)) <= _COSINE_TOLERANCE)


def _orientation(headers: list[SliceHeader], warnings: list[str]) -> np.ndarray:
    given = [h.orientation for h in headers if h.orientation is not None]
    valid = [g for g in given if _valid_orientation(g)]
    if len(valid) < len(given):
        warnings.append(f"ImageOrientationPatient is not a pair of unit vectors at right angles in "
                        f"{len(given) - len(valid)} file(s) (e.g. {list(next(g for g in given if g not in valid))}).")
    if not valid:
        warnings.append("ImageOrientationPatient missing: slices are assumed to be axial.")
        return np.array(_AXIAL)
    first = np.array(valid[0])
    if any(not np.allclose(first, g, atol=1e-4) for g in valid):
        raise DicomSeriesError("The series mixes slice orientations (a localizer in the same series?); "
                               "remove the odd files or choose another series.")
    row, col = first[:3] / np.linalg.norm(first[:3]), first[3:] / np.linalg.norm(first[3:])
    return np.concatenate([row, col])


def _positions_usable(headers: list[SliceHeader], warnings: list[str]) -> bool:
    given = [h.position for h in headers if h.position is not None]
    bad = [p for p in given if not valid_position(p)]
    if bad:
        warnings.append(f"ImagePositionPatient is impossible in {len(bad)} file(s) (e.g. {list(bad[0])} mm).")
    return len(given) == len(headers) and not bad


def _sort(headers, normal, warnings):
    """(ordered headers, positions along the normal or None)."""
    if _positions_usable(headers, warnings):
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
        warnings.append("ImagePositionPatient missing or unusable: slices are ordered by InstanceNumber.")
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
        if value is not None and valid_spacing(abs(float(value)), len(ordered)):
            return abs(float(value))
    if len(ordered) > 1:
        warnings.append(NO_SLICE_SPACING)
    return 1.0


def _pixel_spacing(first: SliceHeader, warnings: list[str]) -> tuple[float, float] | None:
    """(row, column) spacing in mm, or None (with a warning) when missing or impossible."""
    if first.pixel_spacing is None:
        warnings.append(NO_PIXEL_SPACING)
        return None
    row, col = first.pixel_spacing
    if valid_spacing(row, first.rows) and valid_spacing(col, first.cols):
        return row, col
    warnings.append(f"PixelSpacing {row:g} x {col:g} mm is impossible for {first.rows}x{first.cols} pixels "
                    "(0, negative, or a field of view over 5 m): 1 mm pixels are assumed.")
    return None


def order_slices(headers: list[SliceHeader]) -> SliceOrder:
    """Sort the slices and place them in patient space."""
    warnings: list[str] = []
    iop = _orientation(headers, warnings)
    row_dir, col_dir = iop[:3], iop[3:]  # along a row (columns increase), along a column (rows increase)
    normal = np.cross(row_dir, col_dir)
    ordered, proj = _sort(headers, normal, warnings)
    step = _slice_step(ordered, proj, warnings)
    first = ordered[0]
    pixel_spacing = _pixel_spacing(first, warnings)
    row_spacing, col_spacing = pixel_spacing or (1.0, 1.0)
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
    affine[:3, 3] = first.position if proj is not None else (0.0, 0.0, 0.0)
    spacing_known = pixel_spacing is not None and NO_SLICE_SPACING not in warnings
    return SliceOrder(ordered, affine, warnings, spacing_known)
