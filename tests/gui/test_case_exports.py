"""The export actions (gui/case_exports.py) on a small case, without the main window: the Labelme dataset goes to
the case's own folder in the chosen one and asks before replacing an earlier export; the 3-D dialog starts in
that folder; the next export starts in the folder chosen last."""
from __future__ import annotations

import pytest

from core.export.case_folder import owner_of
from core.workspace import Workspace
from gui import case_exports
from gui.case_exports import CaseExports
from tests.support.cases import saved_case
from tests.support.fake_window import FakeWindow

JOB_MS = 60_000


@pytest.fixture
def exports(qtbot, tmp_path, recorded_dialogs):
    def make(name: str, source) -> CaseExports:
        window = FakeWindow(saved_case(Workspace.create(tmp_path / "ws"), name, source))
        qtbot.addWidget(window)
        return CaseExports(window, tmp_path / "settings.ini")

    return make


def test_the_dataset_goes_to_the_case_folder_and_the_next_export_starts_where_this_one_went(qtbot, exports,
                                                                                            tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    asked = []
    monkeypatch.setattr(case_exports.QFileDialog, "getExistingDirectory", lambda *a: asked.append(a[2]) or str(chosen))
    jaw = exports("jaw", tmp_path / "scans" / "jaw")
    with qtbot.waitSignal(jaw.dataset_exported, timeout=JOB_MS) as done:
        assert jaw.export_labelme_dataset()
    assert done.args == [str(chosen / "jaw"), 3]
    assert owner_of(chosen / "jaw") == jaw._window.session.case.store.case_id
    assert jaw.folder == chosen and jaw.case_folder().path == chosen / "jaw"
    assert asked[0] == str(case_exports.default_export_folder())


def test_an_earlier_export_of_the_case_is_replaced_only_after_asking(qtbot, exports, tmp_path, monkeypatch,
                                                                     recorded_dialogs):
    monkeypatch.setattr(case_exports.QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path))
    jaw = exports("jaw", tmp_path / "scans" / "jaw")
    with qtbot.waitSignal(jaw.dataset_exported, timeout=JOB_MS):
        assert jaw.export_labelme_dataset()
    assert not jaw.export_labelme_dataset() and len(recorded_dialogs.replace_asked) == 1
    recorded_dialogs.replace_answer = True
    with qtbot.waitSignal(jaw.dataset_exported, timeout=JOB_MS) as again:
        assert jaw.export_labelme_dataset()
    assert again.args == [str(tmp_path / "jaw"), 3]


def test_nothing_saved_means_nothing_to_export(qtbot, tmp_path, recorded_dialogs):
    window = FakeWindow(saved_case(Workspace.create(tmp_path / "ws"), "jaw", tmp_path / "jaw", slices=()))
    qtbot.addWidget(window)
    assert not CaseExports(window, tmp_path / "settings.ini").export_labelme_dataset()
    assert recorded_dialogs.messages[-1][0] == "Nothing to export"


def test_export_3d_opens_in_the_case_folder_with_names_after_the_case(qtbot, exports, tmp_path):
    jaw = exports("jaw", tmp_path / "scans" / "jaw")
    jaw.remember_folder(tmp_path)
    jaw.export_3d()
    dialog = jaw.export_dialog
    qtbot.addWidget(dialog)
    assert dialog.output_dir == tmp_path / "jaw"
    assert dialog.exporters["mesh"].default_name(dialog.case_name) == "jaw.stl"
    with qtbot.waitSignal(dialog.mesh_ready, timeout=JOB_MS):
        pass
    dialog.reject()
