"""Window presets and the HU -> grey mapping."""
from __future__ import annotations

import numpy as np
import pytest

from core.volume import Volume
from core.windowing import WINDOW_PRESETS, Window, display_window_for, hu_to_display


def test_presets_have_the_documented_values():
    assert WINDOW_PRESETS["bone"] == Window(400, 1800)
    assert WINDOW_PRESETS["dental"] == Window(1000, 4000)
    assert WINDOW_PRESETS["soft"] == Window(40, 400)


@pytest.mark.parametrize("name", ["bone", "dental", "soft"])
def test_every_int16_value_maps_monotonically_and_clips(name):
    window = WINDOW_PRESETS[name]
    hu = np.arange(-32768, 32768, dtype=np.int16)
    grey = hu_to_display(hu, window)
    assert grey.dtype == np.uint8
    assert np.all(np.diff(grey.astype(int)) >= 0)
    assert grey[hu <= window.low].max() == 0 and grey[hu >= window.high].min() == 255
    # The look-up table gives the same grey as the float formula.
    assert np.array_equal(grey, hu_to_display(hu.astype(np.float32), window))


def test_bone_window_separates_bone_from_soft_tissue_and_air():
    grey = hu_to_display(np.array([-1000, 40, 1200], np.int16), WINDOW_PRESETS["bone"])
    assert grey[0] == 0 and 40 < grey[1] < 120 and grey[2] > 220


def test_free_window_level():
    window = WINDOW_PRESETS["soft"].adjusted(d_center=60, d_width=-500)
    assert window == Window(100, 1)  # width never drops below 1
    assert hu_to_display(np.array([99, 101], np.int16), window).tolist() == [0, 255]
    assert Window.from_range(-100, 300) == Window(100, 400)
    with pytest.raises(ValueError):
        Window(0, 0)


def test_display_window_for_volumes():
    ct = Volume(hu=np.zeros((1, 2, 2), np.int16), spacing=(1, 1, 1), name="ct")
    assert display_window_for(ct) == WINDOW_PRESETS["bone"]
    values = np.linspace(0, 50000, 1000).reshape(10, 10, 10).astype(np.uint16)
    stack = Volume(hu=values, spacing=(1, 1, 1), name="stack", units="display")
    window = display_window_for(stack)
    assert 0 <= window.low < 500 and 49500 < window.high <= 50000
