"""Issue 10 item 5: the patient is identified on screen (Volume, series list, case record), and no export
carries the identity: Labelme JSON and PNG, NIfTI, STL and DICOM SEG bytes hold none of it."""
from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from core.io.dicom import scan_dicom_folder
from core.io.dicom_seg import export_dicom_seg
from core.io.loader import load_volume
from core.io.mesh import MeshOptions, build_mesh
from core.io.mesh_export import export_label_nifti, export_mesh
from core.io.slice_export import export_slice
from core.volume import UNKNOWN_PATIENT, PatientInfo
from core.windowing import WINDOW_PRESETS
from core.workspace import Workspace
from core.workspace.case_store import CASE_FILE
from tests.core.fuzz_corpus import ct_nifti
from tests.support.dicom import SHOWN, identified_series


@pytest.fixture(scope="module")
def identified(tmp_path_factory):
    folder = identified_series(tmp_path_factory.mktemp("identified") / "series")
    return folder, load_volume(folder)


def test_the_scan_and_the_volume_name_the_patient(identified):
    folder, volume = identified
    expected = PatientInfo(name="Müller, Jürgen", patient_id="PID-8817342", birth_date="1958-02-14",
                           study_date="2024-03-01", series_description="KIEFER CBCT PRIVAT")
    assert volume.patient == expected
    assert scan_dicom_folder(folder).series[0].patient == expected
    assert volume.patient.summary() == "Müller, Jürgen · ID PID-8817342 · born 1958-02-14 · study 2024-03-01"


def test_files_without_identity_say_unknown(tmp_path):
    volume = load_volume(ct_nifti(tmp_path))
    assert volume.patient == PatientInfo() and volume.patient.summary() == UNKNOWN_PATIENT


def test_the_case_record_keeps_the_patient_for_the_case_list(identified, tmp_path):
    folder, volume = identified
    workspace = Workspace.create(tmp_path / "ws")
    store = workspace.add_case(volume, folder)
    assert Workspace.open(tmp_path / "ws").cases()[0].patient == volume.patient
    # a case made before patients were stored gets its patient when the CT is opened again
    record = json.loads((store.case_dir / CASE_FILE).read_text())
    del record["patient"]
    (store.case_dir / CASE_FILE).write_text(json.dumps(record))
    assert Workspace.open(tmp_path / "ws").cases()[0].patient == PatientInfo()
    Workspace.open(tmp_path / "ws").add_case(volume, folder)
    assert Workspace.open(tmp_path / "ws").cases()[0].patient == volume.patient


def _identity_in(data: bytes) -> list[str]:
    texts = [data.decode("latin-1"), data.decode("utf-8", "replace")]
    return [word for word in SHOWN if any(word in text for text in texts)]


def test_no_export_carries_the_identity(identified, tmp_path):
    folder, volume = identified
    labels = np.zeros(volume.shape, np.uint8)
    labels[3:9, 40:80, 40:80] = 1
    json_path = export_slice(tmp_path / "labelme", 5, volume, labels[5] > 0, WINDOW_PRESETS["bone"])
    outputs = [json_path, json_path.with_suffix(".png"),
               export_label_nifti(tmp_path / "labels.nii.gz", labels, volume),
               export_mesh(tmp_path / "mandible.stl", build_mesh(labels, volume, MeshOptions()).mesh),
               export_dicom_seg(tmp_path / "seg.dcm", labels, volume)]
    for path in outputs:
        assert _identity_in(path.read_bytes()) == [], path.name
    seg = pydicom.dcmread(tmp_path / "seg.dcm")
    assert seg.StudyInstanceUID == volume.study_uid  # it still belongs to the CT's study
    assert str(seg.PatientName) == "" and seg.PatientID == "" and seg.PatientBirthDate == ""
