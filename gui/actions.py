"""Every action of the main window, declared once, as data (napari's app-model pattern, decision 196).

An `ActionSpec` carries its text, shortcuts and tooltip, its callback (`run` when triggered, `toggle` when a
checkable action is switched; both are given the main window), its placement (a menu and a group in it, a
toolbar group, a tool-panel box with its short label) and its enable rule. `gui/window_actions.py` builds the
QActions, the menus, the toolbar and the enable rules from `REGISTRY`; the tool panel's buttons
(`gui/panels/tool_panel.py`) and the F1 sheet (`gui/help.py`) are read from it too. Nothing else declares an
action. Labelme users keep their A/D for previous/next slice.

Rules and callbacks reach the parts through the window (`w.controller`, `w.ai.segmenting`...); they are called
only once the window is built. The enable rules are asked again whenever the window's state changes
(`gui/window_actions.Actions.refresh`): they must be cheap, never read files.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from core.inference.postprocess import PredictionPolicy

if TYPE_CHECKING:  # for the type checker only: the callbacks are given the window
    from gui.main_window import MainWindow

Run = Callable[["MainWindow"], object]
Toggle = Callable[["MainWindow", bool], object]
Rule = Callable[["MainWindow"], bool]


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcuts: tuple[str, ...]
    menu: tuple[str, str]  # (menu title, group in it): a separator between groups
    run: Run | None = None  # triggered (a tool of an exclusive group too)
    toggle: Toggle | None = None  # switched on or off (checkable)
    tip: str = ""
    icon: str | None = None
    toolbar: str | None = None  # its group on the toolbar (TOOLBAR)
    panel: tuple[str, str] | None = None  # (tool-panel box, short label)
    checkable: bool = False
    checked: bool = False  # at start
    group: str | None = None  # exclusive group (the tools)
    enabled: Rule | None = None  # None: always


# --- enable rules -------------------------------------------------------------------------------------
def has_case(w: MainWindow) -> bool:
    return w.session is not None


def can_start_multi_slice(w: MainWindow) -> bool:
    return w.session is not None and not w.multi_slice.running


def can_undo(w: MainWindow) -> bool:
    return w.session is not None and w.session.next_undo() is not None


def can_redo(w: MainWindow) -> bool:
    return w.session is not None and w.session.next_redo() is not None


def can_segment(w: MainWindow) -> bool:
    """An open case and no segmentation of it running (one at a time)."""
    return w.session is not None and not w.ai.segmenting.predict.is_running


def can_resume_segmentation(w: MainWindow) -> bool:
    return can_segment(w) and bool(w.session.unsegmented)


# --- callbacks that need more than one call ------------------------------------------------------------
def on_editor(edit: Callable) -> Run:
    """A callback on the current slice's Editor (none without a case)."""
    return lambda w: w.controller.editor is not None and edit(w.controller.editor)


def tool(name: str) -> Run:
    return lambda w: w.controller.use_tool(name)


def step_slice(step: int) -> Run:
    return lambda w: w.controller.show_slice(w.controller.current + step)


def toggle_layout(w: MainWindow) -> None:
    if w.case_views is not None:
        w.case_views.toggle_layout()


def brush_step(step: int) -> Run:
    return lambda w: w.tool_settings.set_brush_radius(w.tool_settings.brush_radius + step)


def set_threshold_enabled(w: MainWindow, on: bool) -> None:
    w.tool_settings.threshold_enabled = bool(on)


F, E, V, T, AI, H = "&File", "&Edit", "&View", "&Tools", "&AI", "&Help"
MENU_BAR = ((F, ("open", "save", "quit")),
            (E, ("history", "slice", "review", "multi")),
            (V, ("slices", "zoom", "overlay", "window", "layout")),
            (T, ("tools", "brush")),
            (AI, ("segment", "setting", "train", "models")),
            (H, ("help",)))
SUBMENUS = {(F, "open"): ("recent", "Open &Recent")}  # at the end of its group, filled by gui/workspace_cases.py
TOOLBAR = ("file", "history", "tools", "slice", "slices", "view", "ai")
TOOL_TIP = "; [ and ] change the size"

REGISTRY = (
    # File
    ActionSpec("open_folder", "&Open Folder…", ("Ctrl+O",), (F, "open"), lambda w: w.open_folder_dialog(),
               tip="Open a DICOM series, an image stack or a folder of Labelme JSON", icon="open", toolbar="file"),
    ActionSpec("open_file", "Open &File…", ("Ctrl+Shift+O",), (F, "open"), lambda w: w.open_file_dialog(),
               tip="Open a NIfTI CT"),
    ActionSpec("import_labels", "&Import Labels…", ("Ctrl+I",), (F, "open"), lambda w: w.import_labels_dialog(),
               tip="Import a NIfTI label volume or Labelme folder as annotations of the open case", icon="import",
               enabled=has_case),
    ActionSpec("save", "&Save", ("Ctrl+S",), (F, "save"), lambda w: w.save_case(),
               tip="Write Labelme JSON + PNG for edited slices", icon="save", toolbar="file", enabled=has_case),
    ActionSpec("export_3d", "&Export 3-D…", ("Ctrl+E",), (F, "save"), lambda w: w.exports.export_3d(),
               tip="Mesh (STL/PLY/OBJ), NIfTI or DICOM SEG of the annotated mandible", enabled=has_case),
    ActionSpec("export_labelme", "Export &Labelme Dataset…", ("Ctrl+Shift+E",), (F, "save"),
               lambda w: w.exports.export_labelme_dataset(), enabled=has_case,
               tip="Write the saved slices as PNG + Labelme JSON, side by side, to a folder you choose"),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), (F, "quit"), lambda w: w.close()),
    # Edit
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), (E, "history"), lambda w: w.controller.undo(), icon="undo",
               tip="Undo the last action on this case, whole (all the slices it changed), from any slice",
               toolbar="history", enabled=can_undo),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), (E, "history"), lambda w: w.controller.redo(),
               tip="Redo the last undone action", icon="redo", toolbar="history", enabled=can_redo),
    ActionSpec("show_history", "&History…", ("Ctrl+H",), (E, "history"), lambda w: w.history.show(),
               tip="Every action on this case, latest last; click one to undo or redo up to it", enabled=has_case),
    ActionSpec("fill_holes", "&Fill Holes", ("H",), (E, "slice"), on_editor(lambda e: e.fill_holes()),
               tip="Fill enclosed holes on this slice", icon="fill", toolbar="slice", panel=("slice", "Fill Holes"),
               enabled=has_case),
    ActionSpec("remove_islands", "Remove Small &Islands", ("I",), (E, "slice"),
               on_editor(lambda e: e.remove_islands()), tip="Remove islands smaller than the size set in the tool "
               "panel", icon="islands", toolbar="slice", panel=("slice", "Islands"), enabled=has_case),
    ActionSpec("copy_prev", "Copy from &Previous Slice", ("Shift+A",), (E, "slice"),
               on_editor(lambda e: e.copy_from(-1)), tip="Replace this slice's mask with the previous slice's",
               icon="copy_prev", toolbar="slice", panel=("slice", "From Prev"), enabled=has_case),
    ActionSpec("copy_next", "Copy from &Next Slice", ("Shift+D",), (E, "slice"),
               on_editor(lambda e: e.copy_from(+1)), tip="Replace this slice's mask with the next slice's",
               icon="copy_next", toolbar="slice", panel=("slice", "From Next"), enabled=has_case),
    ActionSpec("clear_slice", "&Clear Slice", ("Ctrl+Del",), (E, "slice"), on_editor(lambda e: e.clear()),
               tip="Erase the whole mask of this slice", icon="clear", panel=("slice", "Clear"), enabled=has_case),
    ActionSpec("mark_reviewed", "Mark &Reviewed", ("R",), (E, "review"), lambda w: w.session.toggle_reviewed(),
               tip="Mark this slice reviewed: it becomes training data", icon="reviewed", toolbar="slice",
               panel=("slice", "Reviewed"), enabled=has_case),
    ActionSpec("mark_range_reviewed", "Mark Slices &Reviewed…", ("Shift+R",), (E, "review"),
               lambda w: w.controller.mark_range_reviewed(), enabled=has_case,
               tip="Mark slices N to M reviewed in one step (the slices selected in the list, or this one)"),
    ActionSpec("interpolate", "I&nterpolate Between Edited Slices", ("N",), (E, "multi"),
               lambda w: w.multi_slice.interpolate(), enabled=can_start_multi_slice,
               tip="Fill the slices between the nearest edited or reviewed slices around this one (or every gap) "
               "by shape-based interpolation; the filled slices are 'interpolated', not training data"),
    ActionSpec("propagate_up", "Propagate &Up", ("Shift+PgUp",), (E, "multi"), lambda w: w.multi_slice.propagate(-1),
               tip="Carry this slice's mask toward the head, slice by slice along the bone, until the bone ends; "
               "Esc stops", enabled=can_start_multi_slice),
    ActionSpec("propagate_down", "Propagate &Down", ("Shift+PgDown",), (E, "multi"),
               lambda w: w.multi_slice.propagate(+1), enabled=can_start_multi_slice,
               tip="Carry this slice's mask toward the feet, slice by slice along the bone, until the bone ends; "
               "Esc stops"),
    ActionSpec("stop_propagation", "Stop Propagating", ("Esc",), (E, "multi"), lambda w: w.multi_slice.stop(),
               tip="Stop the propagation; what it did so far stays (Ctrl+Z removes it in one step)",
               enabled=lambda w: w.multi_slice.running),
    ActionSpec("replace_predicted", "Interpolation and Propagation Replace &Predicted Slices", (), (E, "multi"),
               checkable=True, tip="Let interpolation and propagation write over the model's predictions too "
               "(edited and reviewed slices are never written)"),
    ActionSpec("clicks_change_human", "Clicks May Change &Edited and Reviewed Slices", (), (E, "multi"),
               checkable=True, tip="Let 3-D clicks write slices a person edited or reviewed (off: those slices are "
               "kept)"),
    # View
    ActionSpec("prev_slice", "Previous Slice", ("A", "PgUp"), (V, "slices"), step_slice(-1), tip="Previous slice",
               icon="prev", toolbar="slices"),
    ActionSpec("next_slice", "Next Slice", ("D", "PgDown"), (V, "slices"), step_slice(+1), tip="Next slice",
               icon="next", toolbar="slices"),
    ActionSpec("next_uncertain", "Next &Least Certain Slice", ("U",), (V, "slices"),
               lambda w: w.controller.next_uncertain_slice(),
               tip="Go to the predicted slice the model was least sure about; again: the next least sure"),
    ActionSpec("first_slice", "First Slice", ("Home",), (V, "slices"), lambda w: w.controller.show_slice(0)),
    ActionSpec("last_slice", "Last Slice", ("End",), (V, "slices"),
               lambda w: w.session is not None and w.controller.show_slice(w.session.num_slices - 1)),
    ActionSpec("fit", "&Fit to Window", ("F",), (V, "zoom"), lambda w: w.view.fit_to_window(),
               tip="Fit the slice to the window", icon="fit", toolbar="view"),
    ActionSpec("one_to_one", "Actual Size (&1:1)", ("1",), (V, "zoom"), lambda w: w.view.one_to_one(),
               tip="One image pixel per screen pixel", icon="one_to_one", toolbar="view"),
    ActionSpec("zoom_in", "Zoom &In", ("Ctrl+=", "Ctrl++"), (V, "zoom"), lambda w: w.controller.zoom_in()),
    ActionSpec("zoom_out", "Zoom &Out", ("Ctrl+-",), (V, "zoom"), lambda w: w.controller.zoom_out()),
    ActionSpec("toggle_overlay", "Show &Overlay", ("O",), (V, "overlay"),
               toggle=lambda w, on: w.controller.set_overlay_visible(on), checkable=True, checked=True,
               tip="Show or hide the mask (hold Q to peek under it)", icon="overlay", toolbar="view"),
    ActionSpec("preset_bone", "Bone Window", ("Ctrl+1",), (V, "window"), lambda w: w.controller.apply_preset("bone")),
    ActionSpec("preset_dental", "Dental Window", ("Ctrl+2",), (V, "window"),
               lambda w: w.controller.apply_preset("dental")),
    ActionSpec("preset_soft", "Soft-Tissue Window", ("Ctrl+3",), (V, "window"),
               lambda w: w.controller.apply_preset("soft")),
    ActionSpec("grey_values", "&Grey Values…", ("Ctrl+K",), (V, "window"), lambda w: w.grey_values.show_dialog(),
               tip="How this scan's grey values become Hounsfield units; correct them with two clicks",
               enabled=has_case),
    ActionSpec("switch_layout", "Switch &Layout (One View / 2×2 with 3-D)", ("L",), (V, "layout"), toggle_layout,
               tip="One large axial view, or axial, coronal, sagittal and the 3-D view on one crosshair; "
               "Ctrl+click in the axial view moves the crosshair", enabled=has_case),
    # Tools
    ActionSpec("tool_polygon", "&Polygon", ("P",), (T, "tools"), tool("polygon"), icon="polygon", toolbar="tools",
               tip="Click points; click the first point, double-click or Enter to close", panel=("tools", "Polygon"),
               checkable=True, checked=True, group="tools"),
    ActionSpec("tool_edit", "&Edit Vertices", ("V",), (T, "tools"), tool("edit"), icon="edit", toolbar="tools",
               tip="Drag vertices, click an edge to add one, right-click or Delete removes",
               panel=("tools", "Vertices"), checkable=True, group="tools"),
    ActionSpec("tool_brush", "&Brush", ("B",), (T, "tools"), tool("brush"), tip="Paint" + TOOL_TIP, icon="brush",
               toolbar="tools", panel=("tools", "Brush"), checkable=True, group="tools"),
    ActionSpec("tool_eraser", "&Eraser", ("E",), (T, "tools"), tool("eraser"), tip="Erase" + TOOL_TIP,
               icon="eraser", toolbar="tools", panel=("tools", "Eraser"), checkable=True, group="tools"),
    ActionSpec("tool_ruler", "&Ruler", ("M",), (T, "tools"), tool("ruler"), icon="ruler", panel=("tools", "Ruler"),
               tip="Drag to measure a distance in mm (needs the CT's pixel size)", checkable=True, group="tools"),
    ActionSpec("tool_fill", "Seeded &Fill", ("G",), (T, "tools"), tool("fill"), icon="seeded_fill",
               panel=("tools", "Seeded Fill"),
               tip="Click in bone: add the connected bone above the HU threshold within the circle; "
               "Shift+click removes the region under it; [ and ] change the circle", checkable=True, group="tools"),
    ActionSpec("tool_click", "3-D &Click Correction", ("C",), (T, "tools"), tool("click"), icon="click_3d",
               panel=("tools", "3-D Click"),
               tip="Click on bone the mask misses: it is added in every slice it runs through; Shift+click on a "
               "wrong piece removes it in 3-D; in the axial, coronal and sagittal views; each click is one undo step",
               checkable=True, group="tools"),
    ActionSpec("brush_smaller", "Smaller Brush", ("[",), (T, "brush"), brush_step(-1)),
    ActionSpec("brush_larger", "Larger Brush", ("]",), (T, "brush"), brush_step(+1)),
    ActionSpec("hu_threshold", "Paint Only Above &Threshold", ("T",), (T, "brush"), toggle=set_threshold_enabled,
               tip="The brush paints only pixels brighter than the threshold (follows bone)", checkable=True),
    # AI (gui/ai/): the callbacks reach its parts through the window's AiController
    ActionSpec("segment_slice", "Segment This &Slice", ("Ctrl+G",), (AI, "segment"),
               lambda w: w.ai.segmenting.segment_slice(), toolbar="ai", enabled=can_segment,
               tip="Segment the mandible on this slice with the active model"),
    ActionSpec("segment_case", "Segment Whole &Case", ("Ctrl+Shift+G",), (AI, "segment"),
               lambda w: w.ai.segmenting.segment_case(), toolbar="ai", enabled=can_segment,
               tip="Segment every slice; edited and reviewed slices are kept"),
    ActionSpec("segment_case_all", "Segment Whole Case, Replacing Edited Slices…", (), (AI, "segment"),
               lambda w: w.ai.segmenting.segment_case(overwrite=True), enabled=can_segment,
               tip="Segment every slice, also replacing slices you edited or reviewed"),
    ActionSpec("resume_segmentation", "&Resume Segmentation", (), (AI, "segment"),
               lambda w: w.ai.segmenting.resume(), enabled=can_resume_segmentation,
               tip="Segment the slices a Segment Whole Case did not reach because another case was opened"),
    ActionSpec("cancel_ai", "Cancel Segmentation", (), (AI, "segment"), lambda w: w.ai.segmenting.predict.cancel(),
               tip="Stop the running segmentation", enabled=lambda w: w.ai.segmenting.predict.is_running),
    ActionSpec("segment_cases", "Segment Selected &Cases…", ("Ctrl+Alt+G",), (AI, "segment"),
               lambda w: w.ai.cases.segment_selected(),
               tip="Segment every case selected in the case list, in the background; edited and reviewed slices "
               "are kept"),
    ActionSpec("refine", "Refine Edges at the CT's Resolution", (), (AI, "setting"),
               toggle=lambda w, on: w.ai.segmenting.set_refine(on), checkable=True, checked=PredictionPolicy().refine,
               tip="Follow the bone edge at the CT's own pixel size after the network (off: the network's mask as "
               "is)"),
    ActionSpec("retrain", "&Retrain…", ("Ctrl+T",), (AI, "train"), lambda w: w.ai.training.retrain(), toolbar="ai",
               tip="Train a new model version on every edited or reviewed slice of the workspace"),
    ActionSpec("resume_training", "Resume &Training", (), (AI, "train"), lambda w: w.ai.training.resume_training(),
               tip="Continue an interrupted training run", enabled=lambda w: w.ai.training.resumable),
    ActionSpec("import_model", "&Import Model…", (), (AI, "models"), lambda w: w.ai.models.import_model(),
               tip="Add a .msmodel file as a model version"),
    ActionSpec("export_model", "&Export Model…", (), (AI, "models"), lambda w: w.ai.models.export_model(),
               tip="Save the selected model version as a file", enabled=lambda w: w.ai.models.has_versions),
    # Help
    ActionSpec("show_shortcuts", "&Keyboard Shortcuts", ("F1",), (H, "help"), lambda w: w.help.show_shortcuts(),
               tip="Every keyboard shortcut and mouse gesture on one sheet"),
    ActionSpec("about", "&About Mandible Studio", (), (H, "help"), lambda w: w.help.show_about(),
               tip="Version, the active model and its scores, the data folder"),
)
SPECS = {spec.key: spec for spec in REGISTRY}


def in_menu_order() -> list[ActionSpec]:
    """Every action as the menus list them: menu by menu, group by group, in the registry's order within."""
    return [spec for title, groups in MENU_BAR for group in groups for spec in REGISTRY if spec.menu == (title, group)]


def panel_actions(box: str) -> list[ActionSpec]:
    """The actions with a button in the tool panel's box `box`, in order."""
    return [spec for spec in REGISTRY if spec.panel is not None and spec.panel[0] == box]
