"""Shape-based interpolation between two annotated slices, as ITK-SNAP offers it.

Each end's mask becomes a signed distance map (millimetres, positive inside, negative outside;
holes are outside), the two maps are blended linearly by slice position and cut at zero. A hole
present at both ends therefore stays a hole in between, and a blob that splits into two narrows
and parts.

Plain blending fails when a region moves further than its own width between the two ends: the two
do not overlap and the region would vanish half-way. So connected regions are grouped by overlap
(through chains of overlaps, which is how a split is one group); a group without a partner at the
other end is paired with the nearest such group there (centroids closer than MATCH_RADII times the
larger one's radius), and the pair is also blended while both are shifted toward each other along
the line between their centroids, so the region slides across the gap. A region still alone
shrinks toward its end and is gone about half-way when nothing is near it at the other end.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

_EIGHT = np.ones((3, 3), dtype=bool)
# A lone group pairs with one of the other end when their centroids are closer than this many
# equivalent-circle radii (of the larger group).
MATCH_RADII = 4.0


@dataclass(frozen=True)
class _Group:
    mask: np.ndarray  # bool, the group's regions on the whole slice
    centroid: np.ndarray  # (row, col) in millimetres
    radius: float  # equivalent-circle radius in millimetres


def signed_distance(mask: np.ndarray, pixel_spacing=(1.0, 1.0)) -> np.ndarray:
    """Distance (units of `pixel_spacing`) to the nearest pixel of the other side: positive inside,
    negative outside, never 0, so thresholding at 0 gives the mask back. An empty mask is -inf."""
    inside = np.asarray(mask) > 0
    if not inside.any():
        return np.full(inside.shape, -np.inf)
    if inside.all():
        return np.full(inside.shape, np.inf)
    return (ndimage.distance_transform_edt(inside, sampling=pixel_spacing)
            - ndimage.distance_transform_edt(~inside, sampling=pixel_spacing))


def interpolate_gap(first_index: int, first_mask: np.ndarray, last_index: int, last_mask: np.ndarray,
                    pixel_spacing=(1.0, 1.0)) -> dict[int, np.ndarray]:
    """Masks (uint8 0/1) for every slice strictly between `first_index` and `last_index`."""
    first, last = np.asarray(first_mask) > 0, np.asarray(last_mask) > 0
    if first.shape != last.shape:
        raise ValueError(f"the two slices differ in shape: {first.shape} and {last.shape}")
    low, high = sorted((int(first_index), int(last_index)))
    if low == int(last_index):
        first, last = last, first
    between = range(low + 1, high)
    out = {k: np.zeros(first.shape, np.uint8) for k in between}
    if not between:
        return out
    spacing = tuple(float(s) for s in pixel_spacing)
    sdf_first, sdf_last = signed_distance(first, spacing), signed_distance(last, spacing)
    sliding = _sliding_pairs(first, last, spacing)
    for k in between:
        t = (k - low) / (high - low)
        out[k] = (_mix(sdf_first, sdf_last, t) > 0).astype(np.uint8)
        for group_a, group_b in sliding:
            out[k] |= _slide(group_a, group_b, t, spacing)
    return out


def interpolate_between_anchors(masks: Mapping[int, np.ndarray], anchors: Collection[int],
                                may_overwrite: Collection[int], pixel_spacing=(1.0, 1.0)) -> dict[int, np.ndarray]:
    """Fill the slices between consecutive anchors (edited or reviewed slices) by `interpolate_gap`.

    `masks` holds at least every anchor's mask. Only slices in `may_overwrite` are returned, so a
    slice a person edited or reviewed between two anchors is never replaced; an empty anchor is an
    end like any other (the mandible shrinks toward it).
    """
    ordered = sorted(int(a) for a in anchors)
    allowed = {int(i) for i in may_overwrite}
    result: dict[int, np.ndarray] = {}
    for below, above in zip(ordered[:-1], ordered[1:]):
        if above - below < 2 or not (np.any(masks[below]) or np.any(masks[above])):
            continue
        filled = interpolate_gap(below, masks[below], above, masks[above], pixel_spacing)
        result.update({k: m for k, m in filled.items() if k in allowed})
    return result


def _sliding_pairs(first: np.ndarray, last: np.ndarray, spacing) -> list[tuple[_Group, _Group]]:
    """Groups without an overlapping partner, paired with the nearest such group of the other end."""
    groups = _overlap_groups(first, last, spacing)
    lone_a = [a for a, b in groups if b is None]
    lone_b = [b for a, b in groups if a is None]
    pairs = []
    for group_a in lone_a:
        best = _nearest(group_a, lone_b)
        if best is not None:
            pairs.append((group_a, lone_b.pop(best)))
    return pairs


def _overlap_groups(first: np.ndarray, last: np.ndarray, spacing) -> list[tuple[_Group | None, _Group | None]]:
    """Connected regions of both ends, grouped where they overlap; a side is None when it has none."""
    labels_a, _ = ndimage.label(first, structure=_EIGHT)
    labels_b, _ = ndimage.label(last, structure=_EIGHT)
    pairs = []
    for ids_a, ids_b in _overlap_links(labels_a, labels_b):
        mask_a = np.isin(labels_a, ids_a) if ids_a else None
        mask_b = np.isin(labels_b, ids_b) if ids_b else None
        pairs.append((_group(mask_a, spacing), _group(mask_b, spacing)))
    return pairs


def _overlap_links(labels_a: np.ndarray, labels_b: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """Connected components of the bipartite 'overlaps' graph between the two ends' regions."""
    count_a, count_b = int(labels_a.max()), int(labels_b.max())
    both = (labels_a > 0) & (labels_b > 0)
    edges = set(zip(labels_a[both].tolist(), labels_b[both].tolist()))
    parent = list(range(count_a + count_b + 1))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        parent[find(a)] = find(count_a + b)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for a in range(1, count_a + 1):
        groups.setdefault(find(a), ([], []))[0].append(a)
    for b in range(1, count_b + 1):
        groups.setdefault(find(count_a + b), ([], []))[1].append(b)
    return list(groups.values())


def _group(mask: np.ndarray | None, spacing) -> _Group | None:
    if mask is None:
        return None
    rows, cols = np.nonzero(mask)
    centroid = np.array([rows.mean() * spacing[0], cols.mean() * spacing[1]])
    radius = float(np.sqrt(rows.size * spacing[0] * spacing[1] / np.pi))
    return _Group(mask, centroid, radius)


def _nearest(group: _Group, candidates: list[_Group]) -> int | None:
    best, best_distance = None, np.inf
    for index, other in enumerate(candidates):
        distance = float(np.linalg.norm(other.centroid - group.centroid))
        if distance < MATCH_RADII * max(group.radius, other.radius) and distance < best_distance:
            best, best_distance = index, distance
    return best


def _mix(sdf_a: np.ndarray, sdf_b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) * sdf_a + t * sdf_b; an empty end counts as uniformly deeper outside than the other
    end is thick, so what the other end holds shrinks steadily and is gone half-way."""
    if np.isneginf(sdf_a).all() and np.isneginf(sdf_b).all():
        return sdf_a
    if np.isneginf(sdf_a).all():
        sdf_a = np.full_like(sdf_b, -float(sdf_b.max()) - 1.0)
    if np.isneginf(sdf_b).all():
        sdf_b = np.full_like(sdf_a, -float(sdf_a.max()) - 1.0)
    return (1.0 - t) * sdf_a + t * sdf_b


def _slide(group_a: _Group, group_b: _Group, t: float, spacing) -> np.ndarray:
    """Two disjoint groups blended while both move along the line between their centroids."""
    shift = (group_b.centroid - group_a.centroid) / np.asarray(spacing)  # pixels (row, col)
    sdf_a = _shifted(signed_distance(group_a.mask, spacing), t * shift)
    sdf_b = _shifted(signed_distance(group_b.mask, spacing), -(1.0 - t) * shift)
    return (_mix(sdf_a, sdf_b, t) > 0).astype(np.uint8)


def _shifted(sdf: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The distance map moved by `offset` pixels (row, col), outside filled as far outside."""
    return ndimage.shift(sdf, offset, order=1, mode="constant", cval=float(sdf.min()))
