"""Our Labelme files checked with Labelme's own reader (../shared/tools/labelme-check)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import PIL.Image

from tests.support.paths import LABELME_CHECK, shared_path


def run_labelme_check(json_dir: Path, masks_dir: Path) -> dict:
    """Run ../shared/tools/labelme-check (Labelme 6.3.1's own reader); return its summary line."""
    shared_path("tools", "labelme-check")
    done = subprocess.run([str(LABELME_CHECK), "--masks", str(masks_dir), str(json_dir)],
                          capture_output=True, text=True, timeout=600)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, f"labelme-check failed:\n{done.stdout}\n{done.stderr}"
    summary = json.loads(lines[-1])
    assert summary["failed"] == 0
    return summary


def save_mask_png(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray((np.asarray(mask) > 0).astype(np.uint8) * 255).save(path)
