"""The grey-value calibration on screen: a CBCT whose values are not HU says so in plain words, and the user
corrects it with two clicks on the slice (air, soft tissue) or by typing (gui/grey_values.py)."""
from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.calibration import AIR_HU, AIR_LANDMARK_HU, BY_USER, SOFT_TISSUE_HU, GreyMap
from core.io.loader import load_volume
from core.io.nifti import volume_affine_ras
from core.volume import Volume
from tests.support.cbct_phantom import cbct_stored, phantom_hu
from tests.support.window import click, open_case, view_point


@pytest.fixture
def cbct_path(tmp_path):
    """A CBCT-like head stored with air at 300 and bone at 1600 (not HU), 0 outside its field of view."""
    path = tmp_path / "cbct.nii.gz"
    stored = cbct_stored(phantom_hu(slices=6, size=128), air=300.0, bone=1600.0)
    affine = volume_affine_ras(Volume(hu=stored, spacing=(0.5, 0.5, 0.5), name="cbct"))  # canonical as stored
    nib.save(nib.Nifti1Image(np.ascontiguousarray(stored.transpose(2, 1, 0)), affine), str(path))
    return path


def test_the_calibration_is_shown_and_two_clicks_correct_it(qtbot, make_window, cbct_path):
    window = make_window()
    open_case(qtbot, window, cbct_path)
    status = window.findChild(type(window.grey_values.label), "status_grey")
    assert status.text() == "Grey values: calibrated from the scan"
    assert "Grey values are not Hounsfield units: calibrated from the scan" in status.toolTip()
    assert window.tool_panel.bone_level.isVisibleTo(window.tool_panel)

    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)  # View -> Grey Values…
    dialog = window.grey_values.dialog
    qtbot.waitExposed(dialog)
    assert "calibrated from the scan" in dialog.description.text()
    raw = load_volume(cbct_path, calibration=None).hu[window.controller.current]

    qtbot.mouseClick(dialog.findChild(type(dialog.estimate), "pick_air"), Qt.MouseButton.LeftButton)
    click(qtbot, window, 64, 48)  # the airway, in the middle of the head
    air = dialog.values["air"].value()
    assert air == pytest.approx(np.median(raw[45:52, 61:68]), abs=2)
    qtbot.mouseClick(dialog.findChild(type(dialog.estimate), "pick_soft"), Qt.MouseButton.LeftButton)
    click(qtbot, window, 40, 64)  # soft tissue beside the jaw
    soft = dialog.values["soft"].value()
    assert soft == pytest.approx(np.median(raw[61:68, 37:44]), abs=2)
    assert window.controller.tool_name == "polygon" and window.view.tool is window.controller.tools["polygon"]

    soft_field = dialog.values["soft"]
    soft_field.selectAll()
    qtbot.keyClicks(soft_field, f"{soft + 40:.0f}")  # and a typed value: soft tissue a little brighter
    qtbot.mouseClick(dialog.apply, Qt.MouseButton.LeftButton)

    volume = window.session.volume
    assert volume.calibration.source == BY_USER
    assert status.text() == "Grey values: calibrated by you"
    expected = GreyMap.through([(air, AIR_LANDMARK_HU), (soft + 40, SOFT_TISSUE_HU)])
    row, col = 64, 40
    corrected = float(expected(raw[row, col])[()])
    assert volume.hu[window.controller.current, row, col] == pytest.approx(corrected, abs=1)
    qtbot.mouseMove(window.view.viewport(), view_point(window, col, row))
    assert f"{volume.hu[window.controller.current, row, col]:.0f} HU" in window.status_labels["hu"].text()
    record = json.loads((window.session.case.store.case_dir / "case.json").read_text())
    assert record["calibration"]["source"] == BY_USER
    assert record["calibration"]["map"]["stored"] == [air, soft + 40]
    assert volume.hu[window.controller.current, 0, 0] == AIR_HU


def test_air_brighter_than_soft_tissue_is_refused_in_the_dialog(qtbot, make_window, cbct_path):
    window = make_window()
    open_case(qtbot, window, cbct_path)
    before = window.session.volume.hu.copy()
    window.grey_values.show_dialog()
    dialog = window.grey_values.dialog
    dialog.values["air"].setValue(900)
    dialog.values["soft"].setValue(300)
    qtbot.mouseClick(dialog.apply, Qt.MouseButton.LeftButton)
    assert "must be brighter than air" in dialog.message.text()
    np.testing.assert_array_equal(window.session.volume.hu, before)
