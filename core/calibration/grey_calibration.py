"""A scan's grey-value calibration: decided from the scan, stored with its case, correctable by the user.

    calibration = estimate_calibration(volume.hu, declared_padding)   # HU already? else a map from the scan
    hu = apply_calibration(volume.hu, calibration)                   # in place where it can be
    calibration.describe()    # "Grey values are not Hounsfield units: calibrated from the scan (...)"

Decision (docs/decisions/200): the scan's values are Hounsfield units when its air and soft-tissue landmarks
(core/calibration/landmarks.py) sit where CT puts them; it is then used as stored, bit for bit. Otherwise the
landmarks give a linear map that puts the air peak at AIR_LANDMARK_HU and the soft-tissue peak at
SOFT_TISSUE_HU (their levels on calibrated CT), checked against the bone class. Padding outside the field of
view becomes air (AIR_HU) wherever the map is applied, and in an HU scan when the padding is brighter than air.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.calibration.field_of_view import find_padding, padding_mask
from core.calibration.grey_map import AIR_HU, GreyMap
from core.calibration.landmarks import Landmarks, field_of_view_samples, find_landmarks, tissue_split
from core.errors import CalibrationError

# Levels of the landmarks on calibrated CT (the OpenKBP scans and the development head, docs/decisions/200).
AIR_LANDMARK_HU = -1000.0
SOFT_TISSUE_HU = 18.0
# The landmarks of a scan in Hounsfield units lie within these ranges (air: down to lung, when no air is seen;
# a clear peak of the tissue class: soft tissue, which is -10 to 47 HU on the 134 OpenKBP CTs and the head).
HU_AIR_RANGE = (-1100.0, -750.0)
HU_SOFT_TISSUE_RANGE = (-30.0, 80.0)
# The bone class of a sensible calibration has its median here (HU); outside it the estimate is doubted.
BONE_CHECK_RANGE = (150.0, 2500.0)
# Padding brighter than this (HU) is made air in an HU scan; darker padding already shows and acts as air.
AIR_CEILING_HU = -900.0
# Bone level (the brush's "Only above" and refinement's edge): today's 300 HU, kept between this scan's soft
# tissue and bone (docs/decisions/202).
BONE_HU = 300.0
BONE_LEVEL_FRACTIONS = (0.1, 0.5)
BONE_CONTRAST_HU = 150.0  # levels closer than this are not soft tissue and bone (fat and muscle, say)

NO_AIR_IN_HU = ("No air is in the field of view; its soft tissue and bone sit where CT puts them, so the grey values "
                "are used as Hounsfield units. Check them with Grey Values\u2026")

HOUNSFIELD, FROM_SCAN, BY_USER, IMAGE_SLICES = "hounsfield", "scan", "user", "image slices"
SOURCES = (HOUNSFIELD, FROM_SCAN, BY_USER, IMAGE_SLICES)


@dataclass(frozen=True)
class GreyCalibration:
    """How a scan's stored grey values become HU: the map, the padding made air, the landmarks it came from."""

    source: str
    grey_map: GreyMap
    padding: tuple[float, float] | None = None  # stored values outside the field of view (made air)
    landmarks: Landmarks | None = None  # in stored grey values
    bone_level_hu: float = BONE_HU  # the scan's bone level after calibration
    doubt: str = ""  # why the estimate may be wrong, in plain words

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise CalibrationError(f"unknown calibration source {self.source!r}; one of {', '.join(SOURCES)}")

    @property
    def in_hounsfield(self) -> bool:
        return self.source == HOUNSFIELD

    def padding_to_air(self) -> bool:
        """Whether the padding is set to air: wherever the map is applied, and in HU when brighter than air."""
        if self.padding is None:
            return False
        return not self.grey_map.is_identity or self.padding[1] > AIR_CEILING_HU

    def changes_values(self) -> bool:
        return not self.grey_map.is_identity or self.padding_to_air()

    def describe(self) -> str:
        """The calibration in plain words, for the screen."""
        if self.source == IMAGE_SLICES:
            low, high = self.grey_map.stored[0], self.grey_map.stored[-1]
            text = (f"Image slices: grey values are not Hounsfield units; {low:g} to {high:g} are read as the bone "
                    f"window ({self.grey_map.hu[0]:g} to {self.grey_map.hu[-1]:g} HU).")
        elif self.in_hounsfield:
            text = "Grey values are Hounsfield units: used as stored."
        else:
            how = "from the scan" if self.source == FROM_SCAN else "by you"
            air, soft = self.air_and_soft_tissue()
            text = (f"Grey values are not Hounsfield units: calibrated {how} (air {air:.0f} \u2192 "
                    f"{AIR_LANDMARK_HU:.0f} HU, soft tissue {soft:.0f} \u2192 {SOFT_TISSUE_HU:.0f} HU).")
        if self.padding_to_air():
            text += " Outside the field of view is shown and treated as air."
        if self.doubt:
            text += f" {self.doubt}"
        return text

    def air_and_soft_tissue(self) -> tuple[float, float]:
        """The stored grey values this calibration takes for air and soft tissue (what the user may correct)."""
        return self.grey_map.stored_of(AIR_LANDMARK_HU), self.grey_map.stored_of(SOFT_TISSUE_HU)

    def to_dict(self) -> dict:
        return {"source": self.source, "map": self.grey_map.to_dict(),
                "padding": list(self.padding) if self.padding is not None else None,
                "landmarks": self.landmarks.to_dict() if self.landmarks is not None else None,
                "bone_level_hu": round(self.bone_level_hu, 1), "doubt": self.doubt}

    @classmethod
    def from_dict(cls, data) -> "GreyCalibration":
        """From case.json; CalibrationError when it is not a calibration record."""
        try:
            padding = data.get("padding")
            landmarks = data.get("landmarks")
            return cls(source=str(data["source"]), grey_map=GreyMap.from_dict(data["map"]),
                       padding=(float(padding[0]), float(padding[1])) if padding is not None else None,
                       landmarks=Landmarks.from_dict(landmarks) if landmarks is not None else None,
                       bone_level_hu=float(data.get("bone_level_hu", BONE_HU)), doubt=str(data.get("doubt", "")))
        except (CalibrationError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CalibrationError(f"the stored grey-value calibration is not readable ({exc})") from exc


def hounsfield(padding: tuple[float, float] | None = None, doubt: str = "") -> GreyCalibration:
    """The calibration of a scan whose values are used as stored."""
    return GreyCalibration(HOUNSFIELD, GreyMap.identity(), padding, doubt=doubt)


def image_slices_calibration(low: float, high: float, bone_center: float, bone_width: float) -> GreyCalibration:
    """Image slices (8/16-bit PNG, JPEG, TIFF) carry no HU: their grey values `low`..`high` are read as the
    bone window (`bone_center`, `bone_width`), the way such images are usually exported from a CT."""
    grey = GreyMap.through([(low, bone_center - bone_width / 2.0), (high, bone_center + bone_width / 2.0)])
    return GreyCalibration(IMAGE_SLICES, grey)


def estimate_calibration(volume: np.ndarray, declared_padding: tuple[float, float] | None = None) -> GreyCalibration:
    """Decide from the scan itself whether its values are HU, and calibrate it from its landmarks where not."""
    padding = find_padding(volume, declared_padding)
    samples = field_of_view_samples(volume, padding)
    marks = find_landmarks(samples)
    if _padding_is_hounsfield_air(padding):  # clipped air (or padding with air's value) is part of the scan's air
        with_padding = find_landmarks(field_of_view_samples(volume, None))
        marks = with_padding if with_padding is not None and _in_hounsfield_units(with_padding) else marks
    if marks is None:
        return hounsfield(padding, "No air and soft tissue were found in the field of view to check the grey values "
                                   "against: they are used as stored. Check them with Grey Values\u2026")
    soft_tissue = marks.soft_tissue
    if _in_hounsfield_units(marks):
        calibration = replace(hounsfield(padding), landmarks=marks)
    elif _hounsfield_without_air(marks):
        calibration = hounsfield(padding, NO_AIR_IN_HU)  # no air landmark to offer as the scan's estimate
        soft_tissue = marks.air  # its two classes are soft tissue and bone
    else:
        grey = GreyMap.through([(marks.air, AIR_LANDMARK_HU), (marks.soft_tissue, SOFT_TISSUE_HU)])
        bone_hu = grey.hu_of(marks.bone)
        doubt = "" if BONE_CHECK_RANGE[0] <= bone_hu <= BONE_CHECK_RANGE[1] else (
            f"Check it: bone comes out at {bone_hu:.0f} HU, where CT puts it between {BONE_CHECK_RANGE[0]:.0f} and "
            f"{BONE_CHECK_RANGE[1]:.0f} HU.")
        calibration = GreyCalibration(FROM_SCAN, grey, padding, marks, doubt=doubt)
    grey = calibration.grey_map
    return replace(calibration, bone_level_hu=_level_between(grey.hu_of(soft_tissue), grey.hu_of(marks.bone)))


def _padding_is_hounsfield_air(padding: tuple[float, float] | None) -> bool:
    return padding is not None and HU_AIR_RANGE[0] <= padding[0] <= padding[1] <= HU_AIR_RANGE[1]


def _hounsfield_without_air(marks: Landmarks) -> bool:
    """No air in view (a field of view inside the head): the darker class is soft tissue where CT puts it and the
    brighter one bone where CT puts it, while a map from them would put bone where no CT does."""
    grey = GreyMap.through([(marks.air, AIR_LANDMARK_HU), (marks.soft_tissue, SOFT_TISSUE_HU)])
    return (not BONE_CHECK_RANGE[0] <= grey.hu_of(marks.bone) <= BONE_CHECK_RANGE[1]
            and HU_SOFT_TISSUE_RANGE[0] <= marks.air <= HU_SOFT_TISSUE_RANGE[1]
            and BONE_CHECK_RANGE[0] <= marks.soft_tissue <= BONE_CHECK_RANGE[1])


def _in_hounsfield_units(marks: Landmarks) -> bool:
    """Air, and a soft-tissue peak, where CT puts them (a contrast-enhanced scan's brightest peak may be blood)."""
    return (HU_AIR_RANGE[0] <= marks.air <= HU_AIR_RANGE[1]
            and any(HU_SOFT_TISSUE_RANGE[0] <= peak <= HU_SOFT_TISSUE_RANGE[1]
                    for peak in marks.tissue_peaks or (marks.soft_tissue,)))


def two_point_calibration(air: float, soft_tissue: float, base: GreyCalibration | None) -> GreyCalibration:
    """The user's calibration: the stored grey values of air and of soft tissue; `base`'s padding and landmarks
    are kept (its bone level is the caller's to measure again: `calibrated_bone_level`)."""
    if not soft_tissue > air:
        raise CalibrationError(f"soft tissue ({soft_tissue:g}) must be brighter than air ({air:g}): pick air "
                               "outside the head and soft tissue in a muscle or the tongue")
    grey = GreyMap.through([(air, AIR_LANDMARK_HU), (soft_tissue, SOFT_TISSUE_HU)])
    base = base or hounsfield()
    return GreyCalibration(BY_USER, grey, base.padding, base.landmarks, base.bone_level_hu)


def bone_level(values_hu: np.ndarray, default: float = BONE_HU) -> float:
    """The bone level of HU(-equivalent) values around bone (refinement's band): `default` (today's 300 HU),
    moved to between their soft tissue and bone when it is not (core.calibration.landmarks.tissue_split)."""
    split = tissue_split(values_hu, above=-500.0)
    return default if split is None else _level_between(*split, default=default)


def calibrated_bone_level(volume: np.ndarray) -> float:
    """The bone level of a whole volume already in HU(-equivalent) values: between its soft-tissue peak and
    its bone class (landmarks), for the brush's "Only above"."""
    marks = find_landmarks(field_of_view_samples(volume, (AIR_HU, AIR_HU)))
    return BONE_HU if marks is None else _level_between(marks.soft_tissue, marks.bone)


def _level_between(soft: float, bone: float, default: float = BONE_HU) -> float:
    """`default`, kept between soft tissue and bone (BONE_LEVEL_FRACTIONS of the way); `default` when the two are
    too close to be soft tissue and bone."""
    if bone - soft < BONE_CONTRAST_HU:
        return default
    return float(np.clip(default, *_bone_band(soft, bone)))


def _bone_band(soft: float, bone: float) -> tuple[float, float]:
    low, high = BONE_LEVEL_FRACTIONS
    return float(soft + low * (bone - soft)), float(soft + high * (bone - soft))


def apply_calibration(volume: np.ndarray, calibration: GreyCalibration,
                      previous: GreyCalibration | None = None) -> np.ndarray:
    """`volume` (stored values, or values already calibrated by `previous`) in calibrated HU.

    In place, slice by slice, when the volume's type allows it (int16, float32; uint16 through an int16 view
    of the same memory); otherwise into one new int16 volume. The volume itself is returned when nothing changes.
    """
    if previous is not None:
        return _recalibrate(volume, previous, calibration)
    if not calibration.changes_values():
        return volume
    out = _target(volume, integer=not calibration.grey_map.is_identity)
    for k in range(volume.shape[0]):
        plane = volume[k]
        air = padding_mask(plane, calibration.padding) if calibration.padding_to_air() else None
        values = plane if calibration.grey_map.is_identity else _mapped(plane, calibration.grey_map, out.dtype)
        out[k] = values
        if air is not None:
            out[k][air] = AIR_HU
    return out


def _recalibrate(volume: np.ndarray, previous: GreyCalibration, calibration: GreyCalibration) -> np.ndarray:
    """From `previous`'s HU to `calibration`'s, through the stored values both map. Padding made air stays air."""
    both = previous.grey_map.then(calibration.grey_map)
    padding = None
    if calibration.padding_to_air():
        padding = ((AIR_HU, AIR_HU) if previous.padding_to_air()
                   else tuple(previous.grey_map.hu_of(v) for v in calibration.padding))
    out = _target(volume, integer=volume.dtype != np.float32)
    for k in range(volume.shape[0]):
        plane = volume[k]
        air = padding_mask(plane, padding)
        out[k] = _mapped(plane, both, out.dtype)
        out[k][air] = AIR_HU
    return out


def _mapped(plane: np.ndarray, grey: GreyMap, dtype: np.dtype) -> np.ndarray:
    return grey.to_int16(plane) if dtype == np.int16 else grey(plane)


def _target(volume: np.ndarray, integer: bool) -> np.ndarray:
    """Where calibrated values go: the volume itself (int16 or float32; uint16 viewed as int16), else a new
    int16 volume (integer) or float32 volume."""
    if not volume.flags.writeable:  # a read-only (memory-mapped) volume is left as it is
        return np.empty(volume.shape, np.int16 if integer or volume.dtype == np.int16 else np.float32)
    if volume.dtype == np.int16 or (volume.dtype == np.float32 and not integer):
        return volume
    if integer and volume.dtype == np.uint16:
        return volume.view(np.int16)
    return np.empty(volume.shape, np.int16 if integer else np.float32)
