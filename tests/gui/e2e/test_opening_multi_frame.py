"""A multi-frame DICOM file (issue 19 item 5) opens in the app: beside its single-frame series the chooser lists
both, each with its picture and what it holds, and the multi-frame one opens as the same CT."""
from __future__ import annotations

import numpy as np

from core.io.loader import load_volume
from tests.support.dicom import copy_sample_series
from tests.support.window import open_case
from tests.support.multiframe import enhanced_ct


def test_the_chooser_lists_the_multi_frame_file_and_it_opens_as_its_series(qtbot, make_window, recorded_dialogs,
                                                                           tmp_path, sample_dir):
    folder = tmp_path / "study"
    copy_sample_series(folder / "single", 12)
    enhanced_ct(sample_dir, folder / "enhanced.dcm", count=12)
    window = make_window()
    recorded_dialogs.series_answer = None
    with qtbot.waitSignal(window.open_failed, timeout=60_000):
        window.open_path(folder)
    shown = recorded_dialogs.series_shown[-1]
    assert len(shown) == 2 and sum("12 slices in 1 multi-frame file" in text for text in shown) == 1
    chooser = recorded_dialogs.choosers[-1]
    assert all(not chooser.list.item(row).icon().isNull() for row in range(2)), "every series has a thumbnail"

    recorded_dialogs.series_answer = next(i for i, text in enumerate(shown) if "multi-frame" in text)
    open_case(qtbot, window, folder)
    assert np.array_equal(window.session.volume.hu, load_volume(folder / "single").hu)
    assert window.session.num_slices == 12
