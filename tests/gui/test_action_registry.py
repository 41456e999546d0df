"""Actions as data (issue 20): every action is declared once in gui/actions.py, and what the user sees of it is
built from there: each appears in the F1 sheet with its keys and in a menu, no key is bound to two actions, the
tool panel's buttons are the registry's tool-panel actions (Seeded Fill included), and the toolbar shows its
declared groups. (The enable rules on the whole window: tests/gui/e2e/test_actions_follow_the_case.py.)"""
from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from gui.actions import MENU_BAR, REGISTRY, SPECS, TOOLBAR
from gui.help import ShortcutSheet
from gui.panels.tool_panel import PanelButton, ToolPanel
from gui.window_actions import Actions, native_keys


def _menu_actions(menu: QMenu) -> list:
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            found.extend(_menu_actions(action.menu()))
        elif not action.isSeparator():
            found.append(action)
    return found


def _built(qtbot) -> tuple[QMainWindow, Actions, QToolBar]:
    """The registry's actions, menus and toolbar on a bare window (no callback runs)."""
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = Actions(window)
    actions.build_menus()
    return window, actions, actions.build_toolbar()


def test_every_action_is_in_a_menu_and_on_the_f1_sheet_with_its_keys(qtbot):
    window, _actions, _bar = _built(qtbot)
    in_menus = [a for m in window.menuBar().actions() for a in _menu_actions(m.menu())]
    assert [m.text() for m in window.menuBar().actions()] == [title for title, _groups in MENU_BAR]
    assert sorted(a.objectName() for a in in_menus) == sorted(f"action_{spec.key}" for spec in REGISTRY)
    sheet = ShortcutSheet(None)
    qtbot.addWidget(sheet)
    rows = sheet.texts()
    for spec in REGISTRY:
        keys = native_keys(spec.shortcuts) or f"{spec.menu[0].replace('&', '')} menu"
        assert (spec.text.replace("&", "").rstrip("…"), keys) in rows, f"{spec.key} is missing from F1"
    assert ("Seeded Fill", "G") in rows and ("Import Model", "AI menu") in rows


def test_no_key_is_bound_to_two_actions(qtbot):
    window, _actions, _bar = _built(qtbot)
    bound = Counter(key.toString(QKeySequence.SequenceFormat.PortableText)
                    for action in window.actions() for key in action.shortcuts())
    assert bound and not [key for key, count in bound.items() if count > 1]
    assert sum(bound.values()) == sum(len(spec.shortcuts) for spec in REGISTRY)
    assert len(SPECS) == len(REGISTRY), "every key declared once"


def test_the_tool_panel_buttons_are_the_registry_tool_panel_actions(qtbot):
    _window, actions, _bar = _built(qtbot)
    panel = ToolPanel(actions)
    qtbot.addWidget(panel)
    buttons = [(b.defaultAction().objectName(), b.text()) for b in panel.findChildren(PanelButton)]
    declared = [(f"action_{spec.key}", spec.panel[1]) for spec in REGISTRY if spec.panel is not None]
    assert sorted(buttons) == sorted(declared)
    assert ("action_tool_fill", "Seeded Fill") in buttons


def test_the_toolbar_shows_its_declared_groups_in_order(qtbot):
    _window, _actions, bar = _built(qtbot)
    shown = [a.objectName() for a in bar.actions() if not a.isSeparator()]
    declared = [f"action_{spec.key}" for group in TOOLBAR for spec in REGISTRY if spec.toolbar == group]
    assert shown == declared and "action_segment_case" in shown
