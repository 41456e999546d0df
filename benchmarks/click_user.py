"""The simulated user of the click benchmarks (benchmarks/bench_clicks.py, bench_click_solvers.py).

It starts from the model's prediction and puts each next click on an interior point of the largest error
component in 3-D, the way RITM (Sofiiuk et al. 2022) and DeepEdit simulate users: the missed parts (label, not
mask) and the wrong parts (mask, not label) are split into 3-D components (full connectivity, as the prediction
policy's 3-D islands); the largest of either kind gets the click, at its voxel farthest (in mm) from the
component's surface; a missed part gets a click (include), a wrong one a Shift+click (exclude). Earlier clicks
stay with the solver (hard seeds where they fall in the box). The label stands in for the technician's eye.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from core.inference.click_graph_cut import GraphCut
from core.inference.clicks import Click, ClickSolver, solve_click

FULL = ndimage.generate_binary_structure(3, 3)
CHECKPOINTS = (1, 3, 5, 10)
TARGETS = (0.90, 0.95)


def dice(a: np.ndarray, b: np.ndarray, slices: Sequence[int] | None = None) -> float:
    """Dice of two masks, on `slices` only when given."""
    if slices is not None:
        a, b = a[list(slices)], b[list(slices)]
    a, b = a > 0, b > 0
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


def next_click(mask: np.ndarray, label: np.ndarray, spacing) -> Click | None:
    """The click on the largest 3-D error component (None when mask and label agree)."""
    best = None
    for include, error in ((False, mask & ~label), (True, label & ~mask)):
        components, count = ndimage.label(error, structure=FULL)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())
        sizes[0] = 0
        largest = int(np.argmax(sizes))
        if best is None or sizes[largest] > best[0]:
            best = (int(sizes[largest]), components, largest, include)
    if best is None:
        return None
    _, components, largest, include = best
    box = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in ndimage.find_objects(components)[largest - 1])
    component = np.pad(components[box] == largest, 1)
    depth = ndimage.distance_transform_edt(component, sampling=[float(s) for s in spacing])[1:-1, 1:-1, 1:-1]
    inner = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return Click(*(int(i + s.start) for i, s in zip(inner, box)), include=include)


@dataclass
class Curve:
    """Dice before and after each interaction, and the seconds each took."""

    dices: list[float]
    seconds: list[float] = field(default_factory=list)

    def after(self, count: int) -> float:
        """Dice after `count` interactions (the last one when there were fewer)."""
        return self.dices[min(count, len(self.dices) - 1)]

    def needed(self, target: float) -> int | None:
        """Interactions needed to reach `target` (0: already there); None when not within the run."""
        return next((k for k, value in enumerate(self.dices) if value >= target), None)

    def summary(self, checkpoints: Sequence[int] = CHECKPOINTS) -> dict:
        return {"dice_after": {str(k): round(self.after(k), 4) for k in checkpoints if k < len(self.dices)},
                f"noc{int(TARGETS[0] * 100)}": self.needed(TARGETS[0]),
                f"noc{int(TARGETS[1] * 100)}": self.needed(TARGETS[1])}


def click_user(hu, start: np.ndarray, label: np.ndarray, probability, spacing, count: int,
               score: Callable[[np.ndarray], float], units: str = "HU", network_mm: float = 4.0,
               solver: ClickSolver | None = None) -> tuple[Curve, np.ndarray]:
    """`count` clicks from `start` (the app's graph cut unless another `solver`); the Dice curve (by `score`)
    and the final mask."""
    solver = solver or GraphCut()
    mask, label = np.array(start, dtype=bool), np.asarray(label, dtype=bool)
    curve, clicks = Curve([score(mask)]), []
    for _ in range(count):
        click = next_click(mask, label, spacing)
        if click is None:
            curve.dices.append(curve.dices[-1])
            continue
        clicks.append(click)
        began = time.perf_counter()
        box, solved = solve_click(solver, hu, mask, probability, spacing, clicks, units, None, network_mm)
        curve.seconds.append(time.perf_counter() - began)
        mask[box] = solved
        curve.dices.append(score(mask))
    return curve, mask
