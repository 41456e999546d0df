"""The window fits the screen it opens on (issue 13, item 3): at 1366x768 with 150 % scaling (911x512 logical
pixels) and at 1920x1080 with 150 %, no part of the main layout lies outside the screen, the
right panel is as wide as its controls, and Retrain is on the toolbar or behind its visible overflow arrow.

Qt fixes the screen when it starts, so each screen is a fresh process (tests/gui/e2e/screen_probe.py)
on the offscreen platform given that screen."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import SAMPLE_DIR
from tests.support.screen import inside, probe

pytestmark = pytest.mark.process  # starts other processes (docs/decisions/194)

PROBE = Path(__file__).with_name("screen_probe.py")


@pytest.mark.parametrize("width, height, scale, with_case", [(1366, 768, 1.5, True), (1920, 1080, 1.5, False)])
def test_the_window_fits_the_screen(tmp_path, width, height, scale, with_case):
    if with_case and not SAMPLE_DIR.is_dir():
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")
    found = probe(tmp_path, width, height, scale, SAMPLE_DIR if with_case else None, script=PROBE)
    screen = found["screen"]
    assert screen[2:] == [round(width / scale), round(height / scale)]  # the simulated screen is in effect
    for name, part in found["parts"].items():
        assert part is not None, f"{name} is hidden"
        assert inside(part, screen), f"{name} {part} lies outside the screen {screen}"
    for name, part in found["dialogs"].items():  # issue 18: every dialog added or touched fits
        assert inside(part, screen), f"the {name} dialog {part} lies outside the screen {screen}"
    # The right panel shows its controls in full: it needs no horizontal scrolling.
    assert found["right panel has"] >= found["right panel needs"], found
    # Retrain is on screen, or the toolbar's overflow arrow that reveals it is.
    reachable = found["retrain"] or found["extension"]
    assert reachable is not None and inside(reachable, screen), found
    if width / scale >= 1280:
        assert found["retrain"] is not None, "at 1280 logical pixels Retrain fits on the toolbar"
