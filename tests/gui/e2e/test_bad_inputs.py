"""Issue 4 acceptance: opening each bad input from the Foundation issue shows a message (never a traceback)
and the app stays usable: the next good case opens and can be edited."""
from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import PIL.Image
import pytest
from PySide6.QtCore import Qt
from pydicom.uid import generate_uid

from tests.support.dicom import SAMPLE_FILES, copy_sample_series, rewrite_uncompressed
from tests.support.multiframe import other_multi_frame
from tests.support.window import click, current_mask, key, open_case


@pytest.fixture(autouse=True)
def _needs_sample():
    if not SAMPLE_FILES:
        pytest.skip("the bundled sample resources/samples/okbp_pt_224 is missing")


def truncated_dicom(root: Path) -> Path:
    folder = root / "truncated"
    (file,) = copy_sample_series(folder, 1)
    file.write_bytes(file.read_bytes()[:400])
    return folder


def random_bytes_dcm(root: Path) -> Path:
    path = root / "noise.dcm"
    path.write_bytes(np.random.default_rng(4).bytes(5000))
    return path


def empty_folder(root: Path) -> Path:
    folder = root / "empty"
    folder.mkdir()
    return folder


def mixed_sizes(root: Path) -> Path:
    folder = root / "sizes"
    files = copy_sample_series(folder, 6)
    rewrite_uncompressed(files[2], pixels=np.full((64, 64), 1000, np.uint16))
    return folder


def non_existent(root: Path) -> Path:
    return root / "no" / "such" / "scan"


def broken_json(root: Path) -> Path:
    folder = root / "labelme"
    folder.mkdir()
    PIL.Image.fromarray(np.zeros((16, 16), np.uint8)).save(folder / "0001.png")
    (folder / "0001.json").write_text('{"version": "5.5.0", "shapes": [ {"label": "mandible", ')
    return folder


def missing_keys_json(root: Path) -> Path:
    folder = broken_json(root)
    (folder / "0001.json").write_text('{"version": "5.5.0", "flags": {}}')
    return folder


def ultrasound_multi_frame(root: Path) -> Path:
    return other_multi_frame(root / "cine" / "cine.dcm", "1.2.840.10008.5.1.4.1.1.3.1")


BAD_INPUTS = {
    "truncated DICOM": (truncated_dicom, "No DICOM image series"),
    "random bytes .dcm": (random_bytes_dcm, "neither DICOM"),
    "empty folder": (empty_folder, "empty"),
    "mixed slice sizes": (mixed_sizes, "mixes slice sizes"),
    "non-existent path": (non_existent, "does not exist"),
    "broken JSON": (broken_json, "0001.json"),
    "JSON missing keys": (missing_keys_json, "0001.json"),
    "multi-frame ultrasound": (ultrasound_multi_frame, "multi-frame Ultrasound Multi-frame Image Storage file"),
}


def good_nifti(root: Path) -> Path:
    """A small valid CT, quick to open, to show the app is still usable."""
    path = root / "good.nii.gz"
    hu = np.random.default_rng(0).integers(-1000, 1500, (40, 48, 6)).astype(np.int16)  # x, y, z
    nib.save(nib.Nifti1Image(hu, np.diag([-1.0, -1.0, 2.0, 1.0])), path)
    return path


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_shows_message_and_app_stays_usable(qtbot, make_window, recorded_dialogs, tmp_path, name):
    make_input, expected = BAD_INPUTS[name]
    window = make_window()
    with qtbot.waitSignal(window.open_failed, timeout=60_000):
        assert window.open_path(make_input(tmp_path))
    assert window.session is None
    title, text = recorded_dialogs.messages[-1]
    assert title == "Cannot open" and expected in text, text
    assert "Traceback" not in text and "File \"" not in text

    open_case(qtbot, window, good_nifti(tmp_path))
    key(qtbot, window, Qt.Key.Key_B)
    click(qtbot, window, 20, 20)
    assert current_mask(window)[20, 20] == 1


def test_mixed_series_asks_which_series(qtbot, make_window, recorded_dialogs, tmp_path):
    folder = tmp_path / "two_series"
    files = copy_sample_series(folder, 6)
    other_uid = generate_uid()
    for f in files[4:]:
        rewrite_uncompressed(f, edit=lambda ds: (setattr(ds, "SeriesInstanceUID", other_uid),
                                    setattr(ds, "SeriesDescription", "other")))
    window = make_window()
    recorded_dialogs.series_answer = None  # the user cancels the picker
    with qtbot.waitSignal(window.open_failed, timeout=60_000):
        window.open_path(folder)
    assert len(recorded_dialogs.series_shown[-1]) == 2 and window.session is None

    recorded_dialogs.series_answer = [i for i, label in enumerate(recorded_dialogs.series_shown[-1])
                                      if "other" in label][0]
    with qtbot.waitSignal(window.case_opened, timeout=60_000):
        window.open_path(folder)
    assert window.session.num_slices == 2
    assert window.session.volume.series_uid == other_uid


def test_damaged_case_folders_do_not_hide_the_other_cases(qtbot, make_window, workspace_dir, tmp_path):
    """Issue 10: a case.json that is a list, or whose statuses are a list, broke the whole case list."""
    from core.io.loader import load_volume
    from core.workspace import Workspace

    workspace = Workspace.create(workspace_dir)
    store = workspace.add_case(load_volume(good_nifti(tmp_path)))
    good = (store.case_dir / "case.json").read_text()
    for name, text in {"a-list": "[1, 2]", "statuses-list": good.replace('"statuses": {}', '"statuses": [1]'),
                       "nested": "[" * 50_000 + "]" * 50_000}.items():
        (workspace.cases_dir / name).mkdir()
        (workspace.cases_dir / name / "case.json").write_text(text)
    workspace.mark_recent("a-list")
    window = make_window()
    assert [window.case_list.item(row).text().splitlines()[0] for row in range(window.case_list.count())] == ["good"]
