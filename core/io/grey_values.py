"""A loaded scan's grey values in HU: the calibration decided from the scan (core.calibration), or the one its
case stored, applied once when the scan is opened (docs/decisions/200).

    volume = calibrate_volume(load_raw(...))            # estimated from the scan
    volume = calibrate_volume(raw, stored_calibration)  # what the case recorded (a user's correction)

Image stacks ("display" units) keep their values, which are what the screen shows; their calibration
(`image_slices_calibration`, their display range read as the bone window) is applied on the way to the
network and to training data.
"""
from __future__ import annotations

import dataclasses
import logging

from core.calibration import GreyCalibration, apply_calibration, estimate_calibration, image_slices_calibration
from core.volume import Volume
from core.windowing import DEFAULT_PRESET, WINDOW_PRESETS, display_window_for

log = logging.getLogger(__name__)

AUTO = "auto"


def calibrate_volume(volume: Volume, calibration: GreyCalibration | str | None = AUTO) -> Volume:
    """The volume with its grey values in HU(-equivalent) and its calibration recorded.

    `calibration`: AUTO estimates it from the scan; a GreyCalibration applies that one; None leaves the
    values as stored (no calibration recorded). The voxels are calibrated in place where their type allows
    (core.calibration.apply_calibration): the stored values are not kept beside them.
    """
    if calibration is None or volume.calibration is not None:
        return volume
    if volume.units != "HU":
        display = display_window_for(volume)
        bone = WINDOW_PRESETS[DEFAULT_PRESET]
        return dataclasses.replace(volume, calibration=image_slices_calibration(display.low, display.high,
                                                                                bone.center, bone.width))
    if calibration == AUTO:
        calibration = estimate_calibration(volume.hu, volume.declared_padding)
    if not isinstance(calibration, GreyCalibration):
        raise TypeError(f"calibration must be {AUTO!r}, None or a GreyCalibration, not {calibration!r}")
    if calibration.changes_values():
        log.info("%s: %s", volume.name, calibration.describe())
    return dataclasses.replace(volume, hu=apply_calibration(volume.hu, calibration), calibration=calibration)
