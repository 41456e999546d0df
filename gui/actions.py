"""Menus, toolbar and keyboard shortcuts, declared as data and bound to the main window's slots.

Every frequent action has a shortcut, and every tooltip shows it. Labelme users keep their A/D for
previous/next slice. Other modules (the AI parts in gui/ai/) add their actions with
``Actions.add(...)`` and ``Actions.menu(title)`` instead of editing the main window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from core.app_paths import resources_dir


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcuts: tuple[str, ...] = ()
    slot: str | None = None  # name of a MainWindow method
    icon: str | None = None
    tip: str = ""
    checkable: bool = False
    group: str | None = None  # exclusive group (tools)


SPECS = (
    ActionSpec("open_folder", "&Open Folder…", ("Ctrl+O",), "open_folder_dialog", "open",
               "Open a DICOM series, an image stack or a folder of Labelme JSON"),
    ActionSpec("open_file", "Open &File…", ("Ctrl+Shift+O",), "open_file_dialog", None, "Open a NIfTI CT"),
    ActionSpec("import_labels", "&Import Labels…", ("Ctrl+I",), "import_labels_dialog", "import",
               "Import a NIfTI label volume or Labelme folder as annotations of the open case"),
    ActionSpec("save", "&Save", ("Ctrl+S",), "save_case", "save", "Write Labelme JSON + PNG for edited slices"),
    ActionSpec("export_3d", "&Export 3-D…", ("Ctrl+E",), "export_3d", None,
               "Mesh (STL/PLY/OBJ), NIfTI or DICOM SEG of the annotated mandible"),
    ActionSpec("export_labelme", "Export &Labelme Dataset…", ("Ctrl+Shift+E",), "export_labelme_dataset", None,
               "Write the saved slices as PNG + Labelme JSON, side by side, to a folder you choose"),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "close"),
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "undo", "undo",
               "Undo the last action on this case, whole (all the slices it changed), from any slice"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo", "redo", "Redo the last undone action"),
    ActionSpec("fill_holes", "&Fill Holes", ("H",), "fill_holes", "fill", "Fill enclosed holes on this slice"),
    ActionSpec("remove_islands", "Remove Small &Islands", ("I",), "remove_islands", "islands",
               "Remove islands smaller than the size set in the tool panel"),
    ActionSpec("copy_prev", "Copy from &Previous Slice", ("Shift+A",), "copy_from_previous", "copy_prev",
               "Replace this slice's mask with the previous slice's"),
    ActionSpec("copy_next", "Copy from &Next Slice", ("Shift+D",), "copy_from_next", "copy_next",
               "Replace this slice's mask with the next slice's"),
    ActionSpec("clear_slice", "&Clear Slice", ("Ctrl+Del",), "clear_slice", "clear", "Erase the whole mask of this slice"),
    ActionSpec("mark_reviewed", "Mark &Reviewed", ("R",), "mark_reviewed", "reviewed",
               "Mark this slice reviewed: it becomes training data"),
    ActionSpec("mark_range_reviewed", "Mark Slices &Reviewed…", ("Shift+R",), "mark_range_reviewed", None,
               "Mark slices N to M reviewed in one step (the slices selected in the list, or this one)"),
    ActionSpec("prev_slice", "Previous Slice", ("A", "PgUp"), "previous_slice", "prev", "Previous slice"),
    ActionSpec("next_slice", "Next Slice", ("D", "PgDown"), "next_slice", "next", "Next slice"),
    ActionSpec("next_uncertain", "Next &Least Certain Slice", ("U",), "next_uncertain_slice", None,
               "Go to the predicted slice the model was least sure about; again: the next least sure"),
    ActionSpec("first_slice", "First Slice", ("Home",), "first_slice"),
    ActionSpec("last_slice", "Last Slice", ("End",), "last_slice"),
    ActionSpec("fit", "&Fit to Window", ("F",), "fit_to_window", "fit", "Fit the slice to the window"),
    ActionSpec("one_to_one", "Actual Size (&1:1)", ("1",), "one_to_one", "one_to_one", "One image pixel per screen pixel"),
    ActionSpec("zoom_in", "Zoom &In", ("Ctrl+=", "Ctrl++"), "zoom_in"),
    ActionSpec("zoom_out", "Zoom &Out", ("Ctrl+-",), "zoom_out"),
    ActionSpec("toggle_overlay", "Show &Overlay", ("O",), "set_overlay_visible", "overlay",
               "Show or hide the mask (hold Q to peek under it)", checkable=True),
    ActionSpec("preset_bone", "Bone Window", ("Ctrl+1",), "preset_bone"),
    ActionSpec("preset_dental", "Dental Window", ("Ctrl+2",), "preset_dental"),
    ActionSpec("preset_soft", "Soft-Tissue Window", ("Ctrl+3",), "preset_soft"),
    ActionSpec("tool_polygon", "&Polygon", ("P",), "use_polygon_tool", "polygon",
               "Click points; click the first point, double-click or Enter to close", True, "tools"),
    ActionSpec("tool_edit", "&Edit Vertices", ("V",), "use_edit_tool", "edit",
               "Drag vertices, click an edge to add one, right-click or Delete removes", True, "tools"),
    ActionSpec("tool_brush", "&Brush", ("B",), "use_brush_tool", "brush", "Paint; [ and ] change the size", True, "tools"),
    ActionSpec("tool_eraser", "&Eraser", ("E",), "use_eraser_tool", "eraser", "Erase; [ and ] change the size",
               True, "tools"),
    ActionSpec("tool_ruler", "&Ruler", ("M",), "use_ruler_tool", "ruler",
               "Drag to measure a distance in mm (needs the CT's pixel size)", True, "tools"),
    ActionSpec("brush_smaller", "Smaller Brush", ("[",), "brush_smaller"),
    ActionSpec("brush_larger", "Larger Brush", ("]",), "brush_larger"),
    ActionSpec("hu_threshold", "Paint Only Above &Threshold", ("T",), "set_threshold_enabled", None,
               "The brush paints only pixels brighter than the threshold (follows bone)", checkable=True),
    ActionSpec("show_shortcuts", "&Keyboard Shortcuts", ("F1",), "show_shortcuts", None,
               "Every keyboard shortcut and mouse gesture on one sheet"),
    ActionSpec("about", "&About Mandible Studio", (), "show_about", None,
               "Version, the active model and its scores, the data folder"),
)

MENUS = {
    "&File": ("open_folder", "open_file", "import_labels", "@recent", None, "save", "export_3d", "export_labelme",
              None, "quit"),
    "&Edit": ("undo", "redo", None, "fill_holes", "remove_islands", "copy_prev", "copy_next", "clear_slice",
              None, "mark_reviewed", "mark_range_reviewed"),
    "&View": ("prev_slice", "next_slice", "next_uncertain", "first_slice", "last_slice", None, "fit", "one_to_one", "zoom_in",
              "zoom_out", None, "toggle_overlay", None, "preset_bone", "preset_dental", "preset_soft"),
    "&Tools": ("tool_polygon", "tool_edit", "tool_brush", "tool_eraser", "tool_ruler", None, "brush_smaller",
               "brush_larger", "hu_threshold"),
    "&AI": (),  # filled by gui/ai (Actions.add_to_menu); declared here so that Help stays the last menu
    "&Help": ("show_shortcuts", "about"),
}
TOOLBAR = ("open_folder", "save", None, "undo", "redo", None, "tool_polygon", "tool_edit", "tool_brush",
           "tool_eraser", None, "fill_holes", "remove_islands", "copy_prev", "copy_next", None, "prev_slice",
           "next_slice", "mark_reviewed", None, "fit", "one_to_one", "toggle_overlay")


def icon(name: str | None) -> QIcon:
    if not name:
        return QIcon()
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def tooltip(text: str, tip: str, shortcuts: tuple[str, ...]) -> str:
    label = text.replace("&", "").rstrip("…")
    keys = ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
    head = f"{label} ({keys})" if keys else label
    return f"<b>{head}</b><br>{tip}" if tip else head


class Actions:
    """All QActions of a window by key; ``actions.save`` or ``actions["save"]``."""

    def __init__(self, window: QMainWindow, targets: tuple = ()) -> None:
        self._window = window
        self._actions: dict[str, QAction] = {}
        self._groups: dict[str, QActionGroup] = {}
        self._menus: dict[str, QMenu] = {}
        self.recent_menu: QMenu | None = None
        targets = targets or (window,)
        for spec in SPECS:
            slot = None
            if spec.slot:
                owner = next((t for t in targets if hasattr(t, spec.slot)), None)
                if owner is None:
                    raise AttributeError(f"no target has the slot {spec.slot!r} of action {spec.key!r}")
                slot = getattr(owner, spec.slot)
            self.add(spec, slot)

    def add(self, spec: ActionSpec, slot: Callable | None) -> QAction:
        action = QAction(icon(spec.icon), spec.text, self._window)
        action.setObjectName(f"action_{spec.key}")
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tooltip(spec.text, spec.tip, spec.shortcuts))
        action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        if spec.group:
            group = self._groups.setdefault(spec.group, QActionGroup(self._window))
            group.addAction(action)
        if slot is not None:
            (action.toggled if spec.checkable and not spec.group else action.triggered).connect(slot)
        self._window.addAction(action)  # shortcuts work even when the action is in no visible menu
        self._actions[spec.key] = action
        return action

    def __getattr__(self, key: str) -> QAction:
        try:
            return self.__dict__["_actions"][key]
        except KeyError as exc:
            raise AttributeError(key) from exc

    def __getitem__(self, key: str) -> QAction:
        return self._actions[key]

    def items(self) -> list[tuple[str, QAction]]:
        """Every action by key, the AI parts' included, in the order they were added."""
        return list(self._actions.items())

    def add_to_menu(self, title: str, specs: tuple[ActionSpec, ...], slots: dict[str, Callable]) -> dict[str, QAction]:
        """Add `specs` (their slots by key) at the end of the menu `title`; the new actions by key."""
        menu = self.menu(title)
        added = {spec.key: self.add(spec, slots[spec.key]) for spec in specs}
        for action in added.values():
            menu.addAction(action)
        return added

    def menu(self, title: str) -> QMenu:
        """The window's menu with this title, created (at the end of the bar) on first use."""
        if title not in self._menus:
            self._menus[title] = self._window.menuBar().addMenu(title)
        return self._menus[title]

    def build_menus(self) -> None:
        for title, keys in MENUS.items():
            menu = self.menu(title)
            for key in keys:
                if key is None:
                    menu.addSeparator()
                elif key == "@recent":
                    self.recent_menu = menu.addMenu("Open &Recent")
                else:
                    menu.addAction(self._actions[key])

    def build_toolbar(self) -> QToolBar:
        bar = QToolBar("Main", self._window)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        for key in TOOLBAR:
            if key is None:
                bar.addSeparator()
            else:
                bar.addAction(self._actions[key])
        self._window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar
