"""Binds the open case to what is on screen: which slice shows, how it is windowed, the overlay, the
active tool, and the slice list / slider / status bar that follow it. The actions of gui/actions.py call it (and
the current slice's `editor`) directly.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QAbstractSpinBox, QSlider

from core.windowing import WINDOW_PRESETS, Window, display_window_for, hu_to_display
from gui.case_session import CaseSession
from gui.overlay import OverlayStyle, gray_to_qimage, overlay_patch, overlay_rgba, pixel_origin
from gui.mark_reviewed import ask_range
from gui.panels.slice_list import SliceList, SliceRow
from gui.slice_editor import SliceEditor
from gui.slice_view import SliceView, dragged_window
from gui.tool_settings import ToolSettings
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
    known = [i for i in range(session.num_slices) if session.found_mandible(i)]
    return known[len(known) // 2] if known else session.num_slices // 2


class SliceController(QObject):
    window_changed = Signal(float, float, str)  # centre, width, preset key or ""
    style_changed = Signal(object)  # OverlayStyle
    slice_shown = Signal(int)
    measured = Signal(str)  # what the ruler read, or why it cannot measure
    message = Signal(str)  # what an action did or why it did nothing, for the status bar
    tool_changed = Signal(str)  # the tool's name (the coronal and sagittal views follow the click tool)

    def __init__(self, view: SliceView, slice_list: SliceList, slider: QSlider, labels: dict[str, QLabel],
                 settings: ToolSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.slice_list, self.slider, self.labels = view, slice_list, slider, labels
        self.settings = settings
        self.style = OverlayStyle()
        self.session: CaseSession | None = None
        self.editor: SliceEditor | None = None
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
        self.editor = None
        if session is None:
            return
        session.mask_changed.connect(self._on_mask_changed)
        session.status_changed.connect(self._on_status_changed)
        self.editor = editor = SliceEditor(session, self.settings, session)
        editor.message.connect(self.message)
        self.tools = {"polygon": PolygonTool(editor), "edit": VertexEditTool(editor),
                      "brush": BrushTool(editor), "eraser": EraserTool(editor),
                      "ruler": RulerTool(editor, self.measured.emit), "fill": SeededFillTool(editor),
                      **self.case_free_tools}
        volume = session.volume
        self.view.mm_per_pixel = float(volume.spacing[2]) if volume.spacing_known else None
        saved = session.window
        if session.opened_at is not None:  # the user opened one file of the series: its slice
            session.set_current(session.opened_at)
        elif saved is None:  # never shown before: start where there is anatomy, not on the black first slice
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
            rgba = overlay_rgba(annotation.mask, pixel_origin(annotation), self.style)
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
            self.render_overlay()  # only the annotation's source changed: the colour of every pixel may have
            return
        annotation = self.session.annotations[self.current]
        box, rgba = overlay_patch(annotation.mask, pixel_origin(annotation), self.style, region)
        self.view.patch_overlay(box, rgba)

    def _on_status_changed(self, index: int) -> None:
        self.slice_list.set_row(index, self._row(index))

    def _row(self, index: int) -> SliceRow:
        session = self.session
        return SliceRow(session.status(index), session.is_unsaved(index), session.confidence(index),
                        session.found_mandible(index))

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
            self.session.window = window
            self.view.set_image(gray_to_qimage(hu_to_display(self.session.volume.hu[self.current], window)))
        self.labels["window"].setText(f"W {window.width:.0f} / L {window.center:.0f}")
        self.window_changed.emit(window.center, window.width, preset)

    def set_center_width(self, center: float, width: float) -> None:
        self.set_window(Window(center, max(width, 1.0)))

    def apply_preset(self, key: str) -> None:
        self.set_window(WINDOW_PRESETS[key], key)

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

    # --- navigation and view (actions) ----------------------------------------------------------------
    def next_uncertain_slice(self) -> None:
        """U: the predicted slices from the one the model was least sure about up, across the whole case, each
        once per pass."""
        if self.session is None:
            return
        target, new_pass = self.session.next_to_review()
        if target is None:
            self.message.emit("No predicted slice is left to check: every prediction was edited or reviewed.")
            return
        self.show_slice(target)
        sure = self.session.confidence(target)
        again = "Every predicted slice was shown; starting again from the least sure. " if new_pass else ""
        self.message.emit(f"{again}Slice {target + 1}: the model was {round(sure * 100)}% sure")

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

    # --- edits (actions) -----------------------------------------------------------------------------
    def undo(self) -> None:
        """Ctrl+Z: the latest entry of the case, whole, whatever slice is on screen."""
        if self.session is not None:
            entry = self.session.undo()
            if entry is not None:
                self.message.emit(f"Undone: {entry.label()}")

    def redo(self) -> None:
        if self.session is not None:
            entry = self.session.redo()
            if entry is not None:
                self.message.emit(f"Redone: {entry.label()}")

    def mark_range_reviewed(self) -> None:
        """Shift+R: mark slices N-M reviewed, one step (the range starts as the list's selection or this slice)."""
        session = self.session
        if session is None:
            return
        chosen = [self.slice_list.row(item) for item in self.slice_list.selectedItems()] or [session.current]
        indexes = ask_range(self.view.window(), session.num_slices, min(chosen), max(chosen))
        if indexes:
            changed = session.mark_reviewed(indexes)
            self.message.emit(f"Marked {len(changed)} slice(s) reviewed, slices {indexes[0] + 1}–{indexes[-1] + 1}"
                              " (Ctrl+Z takes it back)")
