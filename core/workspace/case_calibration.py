"""A case's grey-value calibration (docs/decisions/200): recorded in case.json when its CT is opened, and the
user's two-point correction kept from then on.

    volume = load_volume(path, calibration=None)   # the stored values ...
    settle_calibration(store, volume)              # ... calibrated as the case says (in Workspace.add_case)
    correct_calibration(case, air=12, soft_tissue=1032)   # the user's correction: in place, recorded

The CT is calibrated in place (core.calibration.apply_calibration): a correction maps the HU the CT holds to
the new HU through the stored grey values, without reading the file again and without a second copy.
"""
from __future__ import annotations

import dataclasses
import logging

from core.calibration import (BY_USER, GreyCalibration, apply_calibration, calibrated_bone_level,
                              two_point_calibration)
from core.errors import CalibrationError
from core.io.grey_values import AUTO, calibrate_volume
from core.volume import Volume
from core.workspace.case_store import CaseStore, SaveError
from core.workspace.open_case import OpenCase

log = logging.getLogger(__name__)


def settle_calibration(store: CaseStore, volume: Volume) -> None:
    """Give the opened CT its case's calibration, in place, and record it: a correction the user made, else
    the scan's own (estimated now). A CT loaded with its stored values (`load_volume(..., calibration=None)`)
    is calibrated straight from them, exactly; one calibrated from the scan already is corrected from there
    (within 1 HU)."""
    stored = store.record.calibration
    wanted = stored if stored is not None and stored.source == BY_USER else None
    if volume.calibration is None:
        calibrated = calibrate_volume(volume, wanted or AUTO)
        volume.hu, volume.calibration = calibrated.hu, calibrated.calibration
    elif wanted is not None and wanted != volume.calibration and volume.units == "HU":
        recalibrate(volume, wanted)
    if volume.units == "HU" and stored != volume.calibration:
        try:
            store.write_record(dataclasses.replace(store.record, calibration=volume.calibration))
        except SaveError as exc:
            log.warning("could not record the calibration of case %s: %s", store.case_id, exc)


def recalibrate(volume: Volume, calibration: GreyCalibration) -> None:
    """The CT's values from its present calibration to `calibration`, in place."""
    volume.hu = apply_calibration(volume.hu, calibration, previous=volume.calibration)
    volume.calibration = calibration


def correct_calibration(case: OpenCase, air: float, soft_tissue: float) -> GreyCalibration:
    """The user's two-point calibration: the stored grey values of air and of soft tissue. The open CT is
    recalibrated, its bone level measured again, and case.json records it (SaveError when it cannot be written;
    the CT keeps the correction meanwhile). CalibrationError when soft tissue is not brighter than air, or when the
    case is image slices (they carry no grey values of a scanner to calibrate)."""
    volume = case.volume
    if volume.units != "HU":
        raise CalibrationError("image slices carry no scanner grey values to calibrate: open the CT itself "
                               "(DICOM or NIfTI) to correct its grey values")
    calibration = two_point_calibration(air, soft_tissue, volume.calibration)
    recalibrate(volume, calibration)
    calibration = dataclasses.replace(calibration, bone_level_hu=calibrated_bone_level(volume.hu))
    volume.calibration = calibration
    case.store.write_record(dataclasses.replace(case.store.record, calibration=calibration))
    return calibration
