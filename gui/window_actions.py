"""The window's QActions, menus and toolbar, built from the one action registry (gui/actions.py), and its enable
rules, asked again by `refresh()` whenever the window's state changes.

Every frequent action has a shortcut, and every tooltip shows it. A shortcut works even when its action is in no
visible menu (the actions are added to the window too).
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from core.app_paths import resources_dir
from gui.actions import MENU_BAR, REGISTRY, SUBMENUS, TOOLBAR, ActionSpec


def icon(name: str | None) -> QIcon:
    if not name:
        return QIcon()
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def native_keys(shortcuts: tuple[str, ...]) -> str:
    """The keys as this platform writes them ("Ctrl+Shift+Z, Ctrl+Y")."""
    return ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)


def tooltip(text: str, tip: str, shortcuts: tuple[str, ...]) -> str:
    label = text.replace("&", "").rstrip("…")
    keys = native_keys(shortcuts)
    head = f"{label} ({keys})" if keys else label
    return f"<b>{head}</b><br>{tip}" if tip else head


class Actions:
    """The QAction of every registry entry by key (``actions.save`` or ``actions["save"]``), on `window`; the
    callbacks and enable rules are given `window`."""

    def __init__(self, window: QMainWindow, registry: tuple[ActionSpec, ...] = REGISTRY) -> None:
        self._window = window
        self._specs = {spec.key: spec for spec in registry}
        self._actions: dict[str, QAction] = {}
        self._groups: dict[str, QActionGroup] = {}
        self.submenus: dict[str, QMenu] = {}
        for spec in registry:
            self._add(spec)

    @property
    def recent_menu(self) -> QMenu | None:
        return self.submenus.get("recent")

    def _add(self, spec: ActionSpec) -> QAction:
        action = QAction(icon(spec.icon), spec.text, self._window)
        action.setObjectName(f"action_{spec.key}")
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tooltip(spec.text, spec.tip, spec.shortcuts))
        action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        action.setChecked(spec.checked)  # before the callbacks are connected: the parts start in the same state
        if spec.group:
            self._groups.setdefault(spec.group, QActionGroup(self._window)).addAction(action)
        if spec.run is not None:
            action.triggered.connect(partial(self._run, spec))
        if spec.toggle is not None:
            action.toggled.connect(partial(self._toggle, spec))
        self._window.addAction(action)
        self._actions[spec.key] = action
        return action

    def _run(self, spec: ActionSpec, *_checked) -> None:
        spec.run(self._window)

    def _toggle(self, spec: ActionSpec, on: bool) -> None:
        spec.toggle(self._window, on)

    def __getattr__(self, key: str) -> QAction:
        try:
            return self.__dict__["_actions"][key]
        except KeyError as exc:
            raise AttributeError(key) from exc

    def __getitem__(self, key: str) -> QAction:
        return self._actions[key]

    def spec(self, key: str) -> ActionSpec:
        return self._specs[key]

    def items(self) -> list[tuple[str, QAction]]:
        """Every action by key, in the registry's order."""
        return list(self._actions.items())

    def refresh(self) -> None:
        """Ask every enable rule again (cheap: called on each change of the case, its history and the jobs)."""
        for key, spec in self._specs.items():
            if spec.enabled is not None:
                self._actions[key].setEnabled(bool(spec.enabled(self._window)))

    def build_menus(self) -> None:
        """The menu bar of MENU_BAR: each menu's groups in order, a separator between two groups."""
        for title, groups in MENU_BAR:
            menu = self._window.menuBar().addMenu(title)
            for number, group in enumerate(groups):
                if number:
                    menu.addSeparator()
                for spec in self._specs.values():
                    if spec.menu == (title, group):
                        menu.addAction(self._actions[spec.key])
                if (title, group) in SUBMENUS:
                    key, text = SUBMENUS[(title, group)]
                    self.submenus[key] = menu.addMenu(text)

    def build_toolbar(self) -> QToolBar:
        bar = QToolBar("Main", self._window)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        for number, group in enumerate(TOOLBAR):
            if number:
                bar.addSeparator()
            for spec in self._specs.values():
                if spec.toolbar == group:
                    bar.addAction(self._actions[spec.key])
        self._window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar
