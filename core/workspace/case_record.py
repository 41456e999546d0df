"""What a workspace remembers about one case (case.json): where the CT came from and where the user was.

The patient's name, ID, birth date and study date (`patient`) are kept here so that the case list
can show them: case.json is local workspace data, never exported (decision 103). The display name is the
source's file or folder name; where that folder has a name that says nothing ("DICOM", "dicom", "IMAGES",
"SE0001", a number: how CDs and scanners export), it is the patient and series instead (decision 185). The
user may rename a case. Exported files never take a name made from the patient: `file_stem`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from core.calibration import GreyCalibration
from core.errors import CalibrationError, InputError
from core.volume import PatientInfo, Volume
from core.annotation.slice_status import SliceStatus

CASE_FORMAT = "mandible-studio-case"
CASE_VERSION = 1
# How slice files are named: 1 = <index:04d> (0-based, before decision 143), 2 = core.io.slice_export.slice_stem.
SLICE_FILE_LAYOUT = 2


@dataclass
class CaseRecord:
    """One case of a workspace. `statuses` lists only slices that are not EMPTY; `confidences` how sure the
    model was on each slice it last predicted (core/inference/confidence.py); `unsegmented` the slices a
    Segment Whole Case stopped by opening another case did not reach (the app offers to resume)."""

    case_id: str
    display_name: str
    source: str | None
    kind: str
    series_uid: str | None
    num_slices: int
    height: int
    width: int
    last_slice: int = 0
    window: tuple[float, float] | None = None
    statuses: dict[int, SliceStatus] = field(default_factory=dict)
    patient: PatientInfo = field(default_factory=PatientInfo)
    confidences: dict[int, float] = field(default_factory=dict)
    unsegmented: list[int] = field(default_factory=list)  # slices a Segment Whole Case stopped by a case switch left
    named_by: str = "source"  # where display_name came from: "source", "patient" or "user"
    layout: int = SLICE_FILE_LAYOUT
    # How the CT's grey values become HU (core.calibration); None for cases made before it was recorded.
    calibration: GreyCalibration | None = None
    created: str = field(default_factory=lambda: _now())
    modified: str = field(default_factory=lambda: _now())

    @property
    def file_stem(self) -> str:
        """A file or folder name for exports of this case: the display name, except when that was made from the
        patient's identity (then the series and study date), so that no exported file is named after a patient."""
        if self.named_by != "patient":
            return _slug(self.display_name)
        return _slug(" ".join(p for p in (self.patient.series_description or "CT", self.patient.study_date) if p))

    @property
    def source_path(self) -> Path | None:
        return Path(self.source) if self.source else None

    def status(self, index: int) -> SliceStatus:
        return self.statuses.get(index, SliceStatus.EMPTY)

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": CASE_FORMAT, "version": CASE_VERSION, **asdict(self)}
        data["statuses"] = {str(i): s.value for i, s in sorted(self.statuses.items())}
        data["confidences"] = {str(i): round(c, 4) for i, c in sorted(self.confidences.items())}
        data["window"] = list(self.window) if self.window else None
        data["patient"] = self.patient.to_dict()
        data["calibration"] = self.calibration.to_dict() if self.calibration is not None else None
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str, path: Path) -> "CaseRecord":
        """Parse case.json; raises InputError naming the file when it is not a case record."""
        try:
            return cls._from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
            problem = "JSON nested too deeply" if isinstance(exc, RecursionError) else exc
            raise InputError(f"{path} is not a readable Mandible Studio case file ({problem}); "
                             f"move the case folder aside and open the CT again") from exc

    @classmethod
    def _from_dict(cls, data: Any) -> "CaseRecord":
        if not isinstance(data, dict) or data.get("format") != CASE_FORMAT:
            found = data.get("format") if isinstance(data, dict) else f"a JSON {type(data).__name__}"
            raise ValueError(f"format is {found!r}, not {CASE_FORMAT!r}")
        raw_statuses = data.get("statuses") or {}
        if not isinstance(raw_statuses, dict):
            raise TypeError(f"statuses must map slice numbers to statuses, not a {type(raw_statuses).__name__}")
        statuses = {int(i): SliceStatus(s) for i, s in raw_statuses.items()}
        window = data.get("window")
        return cls(case_id=str(data["case_id"]), display_name=str(data["display_name"]),
                   source=data.get("source"), kind=str(data.get("kind", "unknown")),
                   series_uid=data.get("series_uid"), num_slices=int(data["num_slices"]),
                   height=int(data["height"]), width=int(data["width"]),
                   last_slice=int(data.get("last_slice", 0)),
                   window=(float(window[0]), float(window[1])) if window else None,
                   statuses={i: s for i, s in statuses.items() if s is not SliceStatus.EMPTY},
                   patient=PatientInfo.from_dict(data.get("patient")),
                   confidences={int(i): float(c) for i, c in (data.get("confidences") or {}).items()},
                   unsegmented=[int(i) for i in (data.get("unsegmented") or [])],
                   named_by=str(data.get("named_by", "source")),
                   layout=int(data.get("layout", 1)), calibration=_calibration(data.get("calibration")),
                   created=str(data.get("created", _now())), modified=str(data.get("modified", _now())))

    def touch(self) -> None:
        self.modified = _now()


def _calibration(data) -> GreyCalibration | None:
    """The stored calibration; a damaged one is dropped (it is estimated again from the scan) rather than
    making the whole case unreadable."""
    if data is None:
        return None
    try:
        return GreyCalibration.from_dict(data)
    except CalibrationError:
        return None


def case_key(volume: Volume, source: str | Path | None) -> str:
    """12 hex digits that identify the CT: the same CT opened again (same series UID, or same file) gets the same key.

    DICOM series are identified by their Series Instance UID (wherever the folder is), other
    sources by their resolved path, and a volume with neither by a hash of its voxels.
    """
    if volume.series_uid:
        key = "series:" + volume.series_uid
    elif source is not None:
        key = "path:" + str(Path(source).expanduser().resolve())
    else:
        key = "voxels:" + hashlib.sha1(np.ascontiguousarray(volume.hu).data).hexdigest()  # the buffer: no copy
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def case_id_for(volume: Volume, source: str | Path | None) -> str:
    """A readable, folder-safe id for a new case: `<source name>-<case_key>`; cases are found by the key."""
    return f"{_slug(display_name_for(volume, source)[0])}-{case_key(volume, source)}"


def display_name_for(volume: Volume, source: str | Path | None) -> tuple[str, str]:
    """(name, named_by) of a new case: the source's file name, or folder name for a DICOM file or folder; the
    patient and series where that name says nothing (a folder called DICOM); the volume name without a source."""
    if source is not None:
        path = Path(source)
        if path.suffix.lower() == ".dcm" or (path.is_file() and not path.suffix):
            path = path.parent  # one file of a series: the series' folder names it
        name = path.name
        for suffix in (".nii.gz", ".nii", ".json"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)] or name
                break
        if not says_nothing(name):
            return name, "source"
    patient = volume.patient
    parts = [p for p in (patient.name, patient.series_description or volume.name) if p]
    if parts:
        return " — ".join(parts), "patient" if patient.name else "source"
    return (Path(source).name if source is not None else volume.name) or "case", "source"


# Folder names that DICOM exports, CDs and scanners give every series: they do not tell cases apart.
_SAYS_NOTHING = re.compile(r"dicom|dicomdir|dcm|images?|img|data|export|series|study|ct|scans?|files?|"
                           r"(se|s|ser|st|im)?_?\d+", re.IGNORECASE)


def says_nothing(name: str) -> bool:
    """True for a folder name like DICOM, dicom, IMAGES, SE0001, S00001 or 12345678."""
    return bool(_SAYS_NOTHING.fullmatch(name.strip()))


def checked_name(name: str) -> str:
    """A name a user typed for a case, trimmed; InputError when it is empty or too long."""
    name = " ".join(str(name).split())
    if not name:
        raise InputError("a case needs a name; type one")
    if len(name) > 80:
        raise InputError(f"a case name has at most 80 characters; this one has {len(name)}")
    return name


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return (slug or "case")[:40]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
