"""The enable rules of the action registry (gui/actions.py) on the whole window: without a case the case's actions
are greyed, Undo and Redo follow the case-wide history, Stop Propagating is there only while one runs, and the
Segment actions are greyed while a segmentation runs, Cancel Segmentation only then."""
from __future__ import annotations


from tests.support.window import open_case

TIMEOUT_MS = 60_000


def test_enable_rules_follow_the_case_its_history_and_a_propagation(qtbot, make_window, sample_dir, sample_case):
    window = make_window()
    actions = window.actions
    assert not any(actions[k].isEnabled() for k in ("save", "fill_holes", "undo", "interpolate", "show_history"))
    open_case(qtbot, window, sample_dir)
    assert all(actions[k].isEnabled() for k in ("save", "fill_holes", "interpolate", "show_history"))
    assert not actions["undo"].isEnabled() and not actions["stop_propagation"].isEnabled()
    _volume, labels = sample_case
    window.controller.show_slice(60)
    assert window.session.edit("Draw", lambda annotation: annotation.set_mask(labels[60]))
    assert actions["undo"].isEnabled() and not actions["redo"].isEnabled()
    actions["undo"].trigger()
    assert actions["redo"].isEnabled() and not actions["undo"].isEnabled()
    actions["redo"].trigger()
    with qtbot.waitSignal(window.multi_slice.finished, timeout=TIMEOUT_MS):
        actions["propagate_down"].trigger()
        assert actions["stop_propagation"].isEnabled() and not actions["propagate_up"].isEnabled()
        actions["stop_propagation"].trigger()
    assert not actions["stop_propagation"].isEnabled() and actions["propagate_up"].isEnabled()


def test_segment_actions_are_greyed_while_a_segmentation_runs_and_cancel_only_then(qtbot, make_window, sample_dir,
                                                                                  network):
    window = make_window()
    actions = window.actions
    assert not actions["segment_case"].isEnabled(), "no case: nothing to segment"
    open_case(qtbot, window, sample_dir)
    assert actions["segment_case"].isEnabled() and not actions["cancel_ai"].isEnabled()
    network.hold_after = 10
    shown = []
    window.ai.segmenting.predict.slice_predicted.connect(shown.append)
    actions["segment_case"].trigger()
    qtbot.waitUntil(lambda: len(shown) == 10, timeout=TIMEOUT_MS)
    assert actions["cancel_ai"].isEnabled()
    assert not any(actions[k].isEnabled() for k in ("segment_slice", "segment_case", "segment_case_all"))
    with qtbot.waitSignal(window.ai.segmenting.predict.finished, timeout=TIMEOUT_MS):
        actions["cancel_ai"].trigger()
    assert actions["segment_case"].isEnabled() and not actions["cancel_ai"].isEnabled()
