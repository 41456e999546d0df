"""A Qt process on a simulated screen (QT_QPA_PLATFORM=offscreen:configfile=...): fresh for each screen, since Qt
fixes the screen when it starts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE_TIMEOUT_S = 600  # only stops a hang


def probe(tmp_path: Path, width: int, height: int, scale: float, case: Path | None = None, *,
          script: Path) -> dict:
    """Run `script` on a simulated screen; the JSON object its last line prints."""
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [{"name": "test", "x": 0, "y": 0, "width": width, "height": height,
                                                "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}", QT_SCALE_FACTOR=str(scale))
    args = [sys.executable, str(script), str(tmp_path / "workspace")] + ([str(case)] if case else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def inside(part: list[int], screen: list[int]) -> bool:
    x, y, w, h = part
    sx, sy, sw, sh = screen
    return x >= sx and y >= sy and x + w <= sx + sw and y + h <= sy + sh
