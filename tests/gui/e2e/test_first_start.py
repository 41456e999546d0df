"""First start on a fresh workspace: the bundled starter model is active with no import, the Models panel says
so, and Segment gives a real mandible mask on the sample case right away."""
from __future__ import annotations

import numpy as np

from core.annotation.slice_status import SliceStatus
from core.io.labels import load_labels
from core.model.model_file import read_document, starter_model
from tests.support.window import current_mask, open_case

JOB_TIMEOUT_MS = 120_000


def test_first_start_activates_the_starter_and_segment_works(make_window, qtbot, sample_dir, workspace_dir):
    assert not workspace_dir.exists()  # a fresh workspace, as on a first start
    window = make_window()
    panel = window.ai.models.panel
    starter = starter_model()
    assert panel.hint.isHidden()  # no "No model yet" hint
    row = [panel.table.item(0, column).text() for column in range(panel.table.columnCount())]
    recorded_dice = read_document(starter)[1]["info"]["validation"]["dice"]
    assert row[:3] == ["●", f"starter: {starter.stem}", "starter"] and row[5] == f"{recorded_dice:.4f}"

    open_case(qtbot, window, sample_dir)
    session = window.session
    label = load_labels(sample_dir.parent / "okbp_pt_224_label.nii.gz", session.volume).astype(bool)
    labelled = np.flatnonzero(label.any(axis=(1, 2)))
    index = int(labelled[len(labelled) // 2])
    window.controller.show_slice(index)
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=JOB_TIMEOUT_MS):
        window.ai.segmenting.actions["segment_slice"].trigger()  # what the toolbar's Segment button does
    mask = current_mask(window).astype(bool)
    dice = 2 * np.logical_and(mask, label[index]).sum() / (mask.sum() + label[index].sum())
    assert dice > 0.7, dice
    assert session.status(index) is SliceStatus.PREDICTED
