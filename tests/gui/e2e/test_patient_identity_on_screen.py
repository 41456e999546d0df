"""Issue 10 item 5 and issue 13 item 5 in the app: the patient is named in the title, the case list and the
series chooser (with a thumbnail per series), saved files carry none of it, and one .dcm opens its series
without warnings about the other files of its folder."""
from __future__ import annotations

import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt

from tests.support.dicom import IDENTITY, SHOWN, identified_series
from tests.support.dicom import SAMPLE_FILES
from tests.support.window import click, key, open_case

OTHER_PATIENT = {"PatientName": "Nowak^Anna", "PatientID": "PID-2", "PatientBirthDate": "19700101",
                 "StudyDate": "20230505", "SeriesDescription": "HEAD CT"}


@pytest.fixture(autouse=True)
def _needs_sample():
    if not SAMPLE_FILES:
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")


def test_patient_is_named_on_screen_and_nowhere_in_saved_files(qtbot, make_window, recorded_dialogs, tmp_path):
    folder = tmp_path / "two patients"
    identified_series(folder / "a", 4)
    identified_series(folder / "b", 3, {**OTHER_PATIENT, "SeriesInstanceUID": generate_uid()})
    window = make_window()
    recorded_dialogs.series_answer = None
    with qtbot.waitSignal(window.open_failed, timeout=60_000):
        window.open_path(folder)
    shown = recorded_dialogs.series_shown[-1]
    assert sorted(text.splitlines()[0] for text in shown) == [
        "Müller, Jürgen · ID PID-8817342 · born 1958-02-14 · study 2024-03-01",
        "Nowak, Anna · ID PID-2 · born 1970-01-01 · study 2023-05-05"]
    chooser = recorded_dialogs.choosers[-1]
    assert all(not chooser.list.item(row).icon().isNull() for row in range(2)), "every series has a thumbnail"

    recorded_dialogs.series_answer = next(i for i, text in enumerate(shown) if "Müller" in text)
    with qtbot.waitSignal(window.case_opened, timeout=60_000):
        window.open_path(folder)
    assert "Müller, Jürgen · ID PID-8817342 · born 1958-02-14" in window.windowTitle()
    assert "Müller, Jürgen · ID PID-8817342" in window.case_list.item(0).text()

    window.view.setFocus()
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 64, 64)
    with qtbot.waitSignal(window.saved, timeout=60_000):
        assert window.save_case()
    saved = sorted(window.session.case.store.annotations_dir.iterdir())
    assert {p.suffix for p in saved} == {".json", ".png"}
    for path in saved:
        text = path.read_bytes().decode("latin-1")
        assert not [word for word in SHOWN if word in text], path.name
    assert IDENTITY["PatientID"] in (window.session.case.store.case_dir / "case.json").read_text()  # workspace only


def test_one_dcm_opens_its_series_without_warnings_about_its_folder(qtbot, make_window, recorded_dialogs):
    window = make_window()
    open_case(qtbot, window, get_testdata_file("CT_small.dcm"))  # beside 80-odd other test files
    assert window.session.volume.shape == (1, 128, 128)
    assert recorded_dialogs.messages == []
    assert window.windowTitle().startswith("test_files — ")  # a file of a series: its folder names the case
