"""Grey-value calibration: a scan's stored grey values -> Hounsfield units, decided from the scan itself
(docs/decisions/200). One named transform (GreyMap) shared by loading, the network's input, training data,
refinement, display and the brush; the field of view's padding is air (core/calibration/field_of_view.py)."""
from core.calibration.grey_calibration import (AIR_LANDMARK_HU, BONE_HU, BY_USER, FROM_SCAN, HOUNSFIELD,
                                               IMAGE_SLICES, SOFT_TISSUE_HU, GreyCalibration, apply_calibration,
                                               bone_level, calibrated_bone_level, estimate_calibration, hounsfield,
                                               image_slices_calibration, two_point_calibration)
from core.calibration.grey_map import AIR_HU, GreyMap, rounded_int16
from core.calibration.landmarks import Landmarks

__all__ = ["AIR_HU", "AIR_LANDMARK_HU", "BONE_HU", "BY_USER", "FROM_SCAN", "HOUNSFIELD", "IMAGE_SLICES",
           "SOFT_TISSUE_HU", "GreyCalibration", "GreyMap", "Landmarks", "apply_calibration", "bone_level",
           "calibrated_bone_level", "estimate_calibration", "hounsfield", "image_slices_calibration", "rounded_int16",
           "two_point_calibration"]
