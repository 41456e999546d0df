"""The Retrain dialog fits small screens (issue 18 item I): at 1366x768, and at 1366x768 and 1920x1080 with 150 %
scaling, the dialog with its Advanced section open lies on the screen, Train and Cancel are visible on it, and the
last setting can be scrolled to. Each screen is a fresh process (tests/gui/retrain_dialog_screen_probe.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.screen import inside, probe

PROBE = Path(__file__).with_name("retrain_dialog_screen_probe.py")


@pytest.mark.process
@pytest.mark.slow  # a fresh Qt process per screen
@pytest.mark.parametrize("width, height, scale", [(1366, 768, 1.0), (1366, 768, 1.5), (1920, 1080, 1.5)])
def test_the_retrain_dialog_with_advanced_open_fits_or_scrolls(tmp_path, width, height, scale):
    found = probe(tmp_path, width, height, scale, script=PROBE)
    screen = found["screen"]
    assert screen[2:] == [round(width / scale), round(height / scale)]  # the simulated screen is in effect
    assert inside(found["dialog"], screen), found
    for button in ("train", "cancel"):
        assert found[button] is not None, f"{button} is hidden"
        assert inside(found[button], screen) and inside(found[button], found["dialog"]), found
    assert found["last setting shown after scrolling"], found
