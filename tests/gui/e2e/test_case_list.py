"""Opening and listing cases as a technician does (issue 13): the first view shows anatomy (item 7), the
no-model question leads somewhere (item 7), and the case list opens on one click, removes a case after asking
and shows a case's folder (item 9)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.app_paths import sample_label_path
from gui import dialogs
from tests.support.paths import SAMPLE_DIR
from tests.support.window import open_case

pytestmark = pytest.mark.skipif(not SAMPLE_DIR.is_dir(), reason="the bundled sample resources/samples/okbp_pt_224 "
                                                                 "is missing")


def test_a_new_case_opens_on_its_middle_slice_not_the_black_first_one(qtbot, make_window):
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR, first_view=True)
    session = window.session
    assert session.current == session.num_slices // 2
    assert window.slider.value() == session.current + 1
    hu = session.volume.hu[session.current]
    assert (hu > 300).mean() > 0.002  # bone is on screen, unlike on slice 1
    window.controller.show_slice(5)
    window.close()
    again = make_window()
    open_case(qtbot, again, SAMPLE_DIR)
    assert again.session.current == 5  # a case seen before opens where the user left it


def test_a_labelled_case_opens_in_the_middle_of_its_mandible(qtbot, make_window, tmp_path):
    """A case whose labels are known (saved before it was first shown) opens inside the mandible."""
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    with qtbot.waitSignal(window.labels_imported, timeout=60_000):
        window.import_labels(sample_label_path())
    labelled = [i for i in range(window.session.num_slices) if window.session.case.found_mandible(i)]
    window.save_now()
    store = window.session.case.store
    window.close()
    store.write_record(dataclasses.replace(store.record, window=None, last_slice=0))  # never shown yet
    again = make_window()
    open_case(qtbot, again, SAMPLE_DIR)
    assert again.session.current == labelled[len(labelled) // 2]


def test_no_model_question_offers_import_and_train(qtbot, make_window, recorded_dialogs, monkeypatch):
    window = make_window()
    ai = window.ai
    monkeypatch.setattr(ai.models.versions, "active", lambda: None)  # a workspace without any model
    open_case(qtbot, window, SAMPLE_DIR)
    imports, trainings = [], []
    monkeypatch.setattr(ai.models, "import_model", lambda: imports.append(1) or False)
    monkeypatch.setattr(ai.training, "retrain", lambda: trainings.append(1) or False)
    recorded_dialogs.no_model_answer = "import"
    ai.segmenting.actions["segment_slice"].trigger()
    recorded_dialogs.no_model_answer = "train"
    ai.segmenting.actions["segment_slice"].trigger()
    recorded_dialogs.no_model_answer = None
    ai.segmenting.actions["segment_slice"].trigger()
    assert [title for title, _ in recorded_dialogs.messages] == ["No model yet"] * 3
    assert imports == [1] and trainings == [1]


def _second_case(tmp_path):
    import cv2

    folder = tmp_path / "second"
    folder.mkdir()
    for n in range(2):
        cv2.imencode(".png", np.full((30, 30), 90, np.uint8))[1].tofile(str(folder / f"{n}.png"))
    return folder


def test_one_click_opens_a_case_and_the_menu_removes_one_after_asking(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    open_case(qtbot, window, _second_case(tmp_path))
    cases = window.case_list
    names = [cases.item(r).text().splitlines()[0] for r in range(cases.count())]
    assert names == ["second", "okbp_pt_224"]
    with qtbot.waitSignal(window.case_opened, timeout=120_000):  # one click, no double-click
        qtbot.mouseClick(cases.viewport(), Qt.MouseButton.LeftButton, pos=cases.visualItemRect(cases.item(1)).center())
    assert window.session.case.record.display_name == "okbp_pt_224"

    names = [cases.item(r).text().splitlines()[0] for r in range(cases.count())]
    assert names == ["second", "okbp_pt_224"], "the list does not re-sort under the mouse (issue 18 K)"
    menu = cases.context_menu(cases.item(0))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Open", "Show in Folder", "Rename…", "Segment This Case…", "Remove from List…"]
    case_id = cases.row_of(cases.item(0)).case_id
    answers = [False, True]
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text, yes: asked.append(text) or answers.pop(0))
    menu.actions()[-1].trigger()
    assert cases.count() == 2  # the user said Cancel: nothing removed
    cases.context_menu(cases.item(0)).actions()[-1].trigger()
    assert [cases.item(r).text().splitlines()[0] for r in range(cases.count())] == ["okbp_pt_224"]
    assert "not deleted" in asked[-1]
    assert (window.workspace.removed_dir / case_id / "case.json").is_file()  # the files are kept
    assert not cases.context_menu(cases.item(0)).actions()[-1].isEnabled()  # the open case cannot be removed


def test_show_in_folder_opens_the_cases_folder(qtbot, make_window, monkeypatch):
    window = make_window()
    open_case(qtbot, window, SAMPLE_DIR)
    opened = []
    monkeypatch.setattr(dialogs.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    menu = window.case_list.context_menu(window.case_list.item(0))
    next(a for a in menu.actions() if a.text() == "Show in Folder").trigger()
    assert opened == [str(SAMPLE_DIR.resolve())]
