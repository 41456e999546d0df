"""Binds the open case to what is on screen: which slice shows, how it is windowed, the overlay, the
active tool, and the slice list / slider / status bar that follow it. It also holds the slots of the
editing and viewing actions (gui/actions.py) that act on the current slice.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QAbstractSpinBox, QSlider

from core.windowing import WINDOW_PRESETS, Window, display_window_for, hu_to_display
from gui.case_session import CaseSession
from gui.overlay import OverlayStyle, gray_to_qimage, overlay_patch, overlay_rgba
from gui.panels.slice_list import SliceList, SliceRow
from gui.slice_view import SliceView, dragged_window
from gui.tools.brush import BrushTool, EraserTool
from gui.tools.polygon import PolygonTool
from gui.tools.ruler import RulerTool
from gui.tools.seeded_fill import SeededFillTool
from gui.tools.vertex_edit import VertexEditTool

PEEK_KEY = Qt.Key.Key_Q
ZOOM_STEP = 1.25


def anatomy_slice(session: CaseSession) -> int:
    """Where a case shown for the first time opens: the middle of the slices known to hold mandible (labelled
    or predicted), else the middle slice."""
    known = [i for i in range(session.num_slices) if session.case.found_mandible(i)]
    return known[len(known) // 2] if known else session.num_slices // 2


class SliceController(QObject):
    window_changed = Signal(float, float, str)  # centre, width, preset key or ""
    style_changed = Signal(object)  # OverlayStyle
    slice_shown = Signal(int)
    measured = Signal(str)  # what the ruler read, or why it cannot measure
    tool_changed = Signal(str)  # the tool's name (the coronal and sagittal views follow the click tool)

    def __init__(self, view: SliceView, slice_list: SliceList, slider: QSlider, labels: dict[str, QLabel],
                 undo_group: QUndoGroup, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.slice_list, self.slider, self.labels = view, slice_list, slider, labels
        self.undo_group = undo_group
        self.style = OverlayStyle()
        self.session: CaseSession | None = None
        self.window = WINDOW_PRESETS["bone"]
        self.preset = "bone"
        self.tools: dict[str, object] = {}
        self.case_free_tools: dict[str, object] = {}  # tools that follow the open case themselves (the click tool)
        self.tool_name = "polygon"
        self._peeking = False
        view.slice_step.connect(lambda step: self.show_slice(self.current + step))
        view.cursor_moved.connect(self._on_cursor)
        view.zoom_changed.connect(lambda z: labels["zoom"].setText(f"Zoom {z * 100:.0f}%"))
        view.window_drag.connect(self._on_window_drag)
        slice_list.slice_selected.connect(self.show_slice)
        slider.valueChanged.connect(lambda v: self.show_slice(v - 1))
        QApplication.instance().installEventFilter(self)

    @property
    def current(self) -> int:
        return self.session.current if self.session is not None else 0

    # --- case -------------------------------------------------------------------------------------
    def set_session(self, session: CaseSession | None) -> None:
        self.view.set_tool(None)
        self.session = session
        if session is None:
            return
        session.mask_changed.connect(self._on_mask_changed)
        session.status_changed.connect(self._on_status_changed)
        self.tools = {"polygon": PolygonTool(session), "edit": VertexEditTool(session),
                      "brush": BrushTool(session), "eraser": EraserTool(session),
                      "ruler": RulerTool(session, self.measured.emit), "fill": SeededFillTool(session),
                      **self.case_free_tools}
        volume = session.volume
        self.view.mm_per_pixel = float(volume.spacing[2]) if volume.spacing_known else None
        saved = session.case.window
        if saved is None:  # never shown before: start where there is anatomy, not on the black first slice
            session.set_current(anatomy_slice(session))
        if saved is not None:
            self.set_window(saved, preset="")
        elif session.volume.units == "HU":
            self.set_window(WINDOW_PRESETS[self.preset if self.preset else "bone"], self.preset or "bone")
        else:
            self.set_window(display_window_for(session.volume), preset="")
        self.slider.blockSignals(True)
        self.slider.setRange(1, session.num_slices)
        self.slider.blockSignals(False)
        self.slice_list.set_rows([self._row(i) for i in range(session.num_slices)])
        self.show_slice(session.current, force=True)
        self.view.fit_to_window()
        self.use_tool(self.tool_name)

    def show_slice(self, index: int, force: bool = False) -> None:
        session = self.session
        if session is None:
            return
        index = min(max(int(index), 0), session.num_slices - 1)
        if index == session.current and not force:
            return
        session.set_current(index)
        self.render()
        self.slice_list.set_current(index)
        self.slider.blockSignals(True)
        self.slider.setValue(index + 1)
        self.slider.blockSignals(False)
        self.labels["slice"].setText(f"Slice {index + 1} / {session.num_slices}")
        tool = self.view.tool
        if tool is not None:
            tool.refresh()
        self.slice_shown.emit(index)

    def render(self) -> None:
        self.view.set_image(gray_to_qimage(hu_to_display(self.session.volume.hu[self.current], self.window)))
        self.render_overlay()

    def render_overlay(self) -> None:
        session = self.session
        annotation = session.annotations.get(session.current)
        if annotation is None:
            rows, cols = session.volume.shape[1:]
            rgba = np.zeros((rows, cols, 4), np.uint8)
        else:
            rgba = overlay_rgba(annotation.mask, ~annotation.edited, self.style)
        self.view.set_overlay(rgba)
        self.view.set_overlay_visible(self.style.visible and not self._peeking)

    def _on_mask_changed(self, index: int, region) -> None:
        if index == self.current:
            self._repaint_overlay(region)
            tool = self.view.tool
            # A half-drawn polygon is not derived from the mask: a prediction or an undo arriving
            # for this slice must not wipe it (PolygonTool.refresh is for slice switches).
            if tool is not None and not isinstance(tool, (BrushTool, PolygonTool)):
                tool.refresh()

    def _repaint_overlay(self, region) -> None:
        """Only the changed box (and the outline ring around it) is recomputed and repainted."""
        if region[0].stop <= region[0].start or region[1].stop <= region[1].start:
            return  # only the annotation's source changed: no pixel looks different
        annotation = self.session.annotations[self.current]
        box, rgba = overlay_patch(annotation.mask, ~annotation.edited, self.style, region)
        self.view.patch_overlay(box, rgba)

    def _on_status_changed(self, index: int) -> None:
        self.slice_list.set_row(index, self._row(index))

    def _row(self, index: int) -> SliceRow:
        case = self.session.case
        return SliceRow(case.status(index), case.is_unsaved(index), case.confidence(index), case.found_mandible(index))

    def refresh_statuses(self) -> None:
        if self.session is not None:
            for index in range(self.session.num_slices):
                self._on_status_changed(index)

    # --- window / level ----------------------------------------------------------------------------
    def set_window(self, window: Window, preset: str = "") -> None:
        """Show the slice through `window`; a window equal to a preset's is that preset (the box says "Bone")."""
        if not preset and self.session is not None and self.session.volume.units == "HU":
            preset = next((key for key, value in WINDOW_PRESETS.items() if value == window), "")
        self.window, self.preset = window, preset
        if self.session is not None:
            self.session.case.window = window
            self.view.set_image(gray_to_qimage(hu_to_display(self.session.volume.hu[self.current], window)))
        self.labels["window"].setText(f"W {window.width:.0f} / L {window.center:.0f}")
        self.window_changed.emit(window.center, window.width, preset)

    def set_center_width(self, center: float, width: float) -> None:
        self.set_window(Window(center, max(width, 1.0)))

    def apply_preset(self, key: str) -> None:
        self.set_window(WINDOW_PRESETS[key], key)

    def preset_bone(self) -> None:
        self.apply_preset("bone")

    def preset_dental(self) -> None:
        self.apply_preset("dental")

    def preset_soft(self) -> None:
        self.apply_preset("soft")

    def _on_window_drag(self, dx: float, dy: float) -> None:
        self.set_window(dragged_window(self.window, dx, dy))

    def _on_cursor(self, x: float, y: float) -> None:
        row, col = int(y), int(x)
        # QRectF.contains() includes the right and bottom edges: x == width is not a pixel.
        if self.session is None or x < 0 or y < 0 or row >= self.session.volume.shape[1] \
                or col >= self.session.volume.shape[2]:
            self.labels["hu"].setText("")
            return
        value = float(self.session.volume.hu[self.current, row, col])
        # An image stack's values are not Hounsfield units: the readout says what they are.
        reading = f"{value:.0f} HU" if self.session.volume.units == "HU" else f"intensity {value:.0f}"
        self.labels["hu"].setText(f"({col}, {row})  {reading}")

    # --- navigation and view slots (actions) -------------------------------------------------------
    def previous_slice(self) -> None:
        self.show_slice(self.current - 1)

    def next_slice(self) -> None:
        self.show_slice(self.current + 1)

    def next_uncertain_slice(self) -> None:
        """U: the predicted slice the model was least sure about (then the next least sure, and so on)."""
        if self.session is not None:
            target = self.session.case.least_certain_after(self.current)
            if target is not None:
                self.show_slice(target)

    def first_slice(self) -> None:
        self.show_slice(0)

    def last_slice(self) -> None:
        if self.session is not None:
            self.show_slice(self.session.num_slices - 1)

    def fit_to_window(self) -> None:
        self.view.fit_to_window()

    def one_to_one(self) -> None:
        self.view.one_to_one()

    def zoom_in(self) -> None:
        self.view.zoom_at(ZOOM_STEP, self.view.viewport().rect().center())

    def zoom_out(self) -> None:
        self.view.zoom_at(1 / ZOOM_STEP, self.view.viewport().rect().center())

    def set_overlay_visible(self, visible: bool) -> None:
        self.set_overlay_style(dataclasses.replace(self.style, visible=bool(visible)))

    def set_overlay_style(self, style: OverlayStyle) -> None:
        """The one way the overlay's look changes (the overlay panel and the O action ask for it here)."""
        self.style = style
        if self.session is not None:
            self.render_overlay()
        self.style_changed.emit(style)

    def eventFilter(self, obj, event) -> bool:
        """Hold Q anywhere in the window (outside text fields) to peek under the overlay."""
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == PEEK_KEY \
                and not event.modifiers() and not event.isAutoRepeat() \
                and not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox)) \
                and self.view.window().isActiveWindow():
            self._peeking = kind == QEvent.Type.KeyPress
            self.view.set_overlay_visible(self.style.visible and not self._peeking)
            return True
        return False

    # --- tools ------------------------------------------------------------------------------------
    def use_tool(self, name: str) -> None:
        self.tool_name = name
        if self.session is not None:
            self.view.set_tool(self.tools[name])
        self.tool_changed.emit(name)

    def use_polygon_tool(self) -> None:
        self.use_tool("polygon")

    def use_edit_tool(self) -> None:
        self.use_tool("edit")

    def use_brush_tool(self) -> None:
        self.use_tool("brush")

    def use_eraser_tool(self) -> None:
        self.use_tool("eraser")

    def use_ruler_tool(self) -> None:
        self.use_tool("ruler")

    def use_fill_tool(self) -> None:
        self.use_tool("fill")

    def brush_smaller(self) -> None:
        if self.session is not None:
            self.session.set_brush_radius(self.session.brush_radius - 1)

    def brush_larger(self) -> None:
        if self.session is not None:
            self.session.set_brush_radius(self.session.brush_radius + 1)

    def set_threshold_enabled(self, enabled: bool) -> None:
        if self.session is not None:
            self.session.threshold_enabled = bool(enabled)

    # --- edits on the current slice (actions) ------------------------------------------------------
    def undo(self) -> None:
        self.undo_group.undo()

    def redo(self) -> None:
        self.undo_group.redo()

    def fill_holes(self) -> None:
        if self.session is not None:
            self.session.fill_holes()

    def remove_islands(self) -> None:
        if self.session is not None:
            self.session.remove_islands()

    def copy_from_previous(self) -> None:
        if self.session is not None:
            self.session.copy_from(-1)

    def copy_from_next(self) -> None:
        if self.session is not None:
            self.session.copy_from(+1)

    def clear_slice(self) -> None:
        if self.session is not None:
            self.session.clear()

    def mark_reviewed(self) -> None:
        if self.session is not None:
            self.session.toggle_reviewed()
