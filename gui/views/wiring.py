"""The linked views of the open case in the main window: one large axial view (the editing view), or 2x2
with coronal, sagittal and the live 3-D view (L switches), all on one crosshair and one window/level.

The coronal, sagittal and 3-D views are built the first time the user asks for 2x2 (vispy is imported
only then, decision 160). The crosshair's slice is the current slice: the slice list, the slider and the
views all move it, and the SliceController stays the one owner of the current slice and the window.
In the axial view Ctrl+click moves the crosshair within the slice (a plain click belongs to the tool). The 3-D
click tool (C) works in the coronal and sagittal views too: while it is the tool, a click there corrects and
Ctrl+click moves the crosshair.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QVBoxLayout, QWidget

from core.windowing import Window
from gui.case_session import CaseSession
from gui.click_correction import ClickCorrection
from gui.slice_controller import SliceController
from gui.tools.base import snapped
from gui.tools.click import ClickTool
from gui.views.crosshair import Crosshair, Point
from gui.views.layout import ViewLayout
from gui.views.ortho_view import CROSSHAIR_RGB
from gui.views.planes import AnnotationLabels, Plane


class CaseViews(QObject):
    """One open case's views around the window's axial view, inside `host` (a widget with a box layout)."""

    def __init__(self, session: CaseSession, controller: SliceController, host: QWidget,
                 allow_software_gl: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.host = session, controller, host
        self.axial = controller.view
        self.allow_software_gl = allow_software_gl
        rows, cols = session.volume.shape[1:]
        self.crosshair = Crosshair(session.volume.shape, (session.current, rows // 2, cols // 2))
        self.layout: ViewLayout | None = None
        self.mode = "single"
        self.lines = [QGraphicsLineItem() for _ in range(2)]
        for line in self.lines:
            line.setPen(QPen(QColor(*CROSSHAIR_RGB, 200), 0))
            line.setZValue(2)
            line.setVisible(False)
            self.axial.scene().addItem(line)
        self.crosshair.add_listener(self._on_crosshair)
        controller.slice_shown.connect(self._on_slice_shown)
        controller.window_changed.connect(self._on_controller_window)
        controller.style_changed.connect(self._on_style)
        controller.tool_changed.connect(self._follow_tool)
        session.mask_changed.connect(self._on_mask_changed)
        self.axial.viewport().installEventFilter(self)

    @classmethod
    def replacing(cls, old: "CaseViews | None", session: CaseSession, controller: SliceController,
                  host: QWidget, parent: QObject | None = None) -> "CaseViews":
        """The views of a newly opened case, in the layout the old case's views (closed by now) were in; a 3-D
        view the user started on software OpenGL starts at once again (not "paused" on every case)."""
        mode = "single" if old is None else old.mode
        software_gl = old is not None and old.allow_software_gl
        if old is not None:
            old.deleteLater()
        views = cls(session, controller, host, allow_software_gl=software_gl, parent=parent)
        views.set_mode(mode)
        return views

    # --- layout ------------------------------------------------------------------------------------
    def toggle_layout(self) -> None:
        self.set_mode("single" if self.mode == "2x2" else "2x2")

    def set_mode(self, mode: str) -> None:
        if mode == "2x2" and self.layout is None:
            self._build_layout()
        self.mode = mode
        if self.layout is not None:
            self.layout.set_layout(mode)
        for line in self.lines:
            line.setVisible(mode == "2x2")
        self.axial.set_caption(*((Plane.AXIAL.title, Plane.AXIAL.edges) if mode == "2x2" else (None, None)))
        self._draw_lines(self.crosshair.point)

    def _build_layout(self) -> None:
        session, controller = self.session, self.controller
        labels = AnnotationLabels(session.annotations, session.volume.shape)
        box = self.host.layout()
        box.removeWidget(self.axial)
        self.layout = ViewLayout(session.volume, labels, self.crosshair, controller.window, controller.style,
                                 self.host, self.allow_software_gl, axial=self.axial)
        box.addWidget(self.layout)
        self.layout.show()
        self.layout.window_changed.connect(self._on_layout_window)
        self._follow_tool(controller.tool_name)

    def _follow_tool(self, _name: str = "") -> None:
        """The coronal and sagittal views take the click tool while it is the axial view's tool; else a click
        there moves the crosshair."""
        if self.layout is None:
            return
        tool = self.controller.tools.get(self.controller.tool_name)
        for plane, view in self.layout.planes.items():
            if view is not self.axial:
                view.use_tool(tool.for_view(view.voxel_at, view.move_crosshair_to)
                              if isinstance(tool, ClickTool) else None)

    @property
    def started_3d(self) -> bool:
        """Whether the 3-D view draws (on software OpenGL: the user asked for it)."""
        return self.layout is not None and self.layout.surface.available

    def close(self) -> None:
        """The case goes: the axial view returns to the host alone, the other views are thrown away."""
        self.allow_software_gl = self.allow_software_gl or self.started_3d  # the next case's views start it too
        self.crosshair.remove_listener(self._on_crosshair)
        self.axial.viewport().removeEventFilter(self)
        for signal, slot in ((self.controller.slice_shown, self._on_slice_shown),
                             (self.controller.window_changed, self._on_controller_window),
                             (self.controller.style_changed, self._on_style),
                             (self.controller.tool_changed, self._follow_tool),
                             (self.session.mask_changed, self._on_mask_changed)):
            signal.disconnect(slot)
        for line in self.lines:
            self.axial.scene().removeItem(line)
        if self.layout is not None:
            self.layout.close_views()
            box = self.host.layout()
            box.removeWidget(self.layout)
            self.axial.setParent(self.host)
            box.addWidget(self.axial)
            self.axial.show()
            self.layout.deleteLater()
            self.layout = None

    def refresh_images(self) -> None:
        """The CT's values changed (a grey-value correction): draw every plane again."""
        if self.layout is not None:
            for view in self.layout.planes.values():
                view.render_image()

    # --- what the others do ----------------------------------------------------------------------
    def _on_crosshair(self, point: Point) -> None:
        if point[0] != self.session.current:
            self.controller.show_slice(point[0])
        self._draw_lines(point)

    def _on_slice_shown(self, index: int) -> None:
        self.crosshair.move_axis(0, index)

    def _on_controller_window(self, center: float, width: float, _preset: str) -> None:
        if self.layout is not None:
            self.layout.set_window(Window(center, width))

    def _on_layout_window(self, window: Window) -> None:
        if window != self.controller.window:
            self.controller.set_window(window)

    def _on_style(self, style) -> None:
        if self.layout is not None:
            self.layout.set_style(style)

    def _on_mask_changed(self, index: int, region) -> None:
        if self.layout is not None:
            self.layout.labels_changed({index}, region)

    def _draw_lines(self, point: Point) -> None:
        if self.mode != "2x2":
            return
        rect = self.axial.image_rect()
        row, col = point[1] + 0.5, point[2] + 0.5
        self.lines[0].setLine(rect.left(), row, rect.right(), row)
        self.lines[1].setLine(col, rect.top(), col, rect.bottom())

    def eventFilter(self, obj, event) -> bool:
        """Ctrl+click in the axial view: move the crosshair to that pixel of the current slice."""
        if event.type() == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton \
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pos = self.axial.mapToScene(event.position().toPoint())
            self.crosshair.move_to(self.session.current, int(pos.y()), int(pos.x()))
            return True
        return False


def view_host(view: QWidget) -> QWidget:
    """The central widget that holds the axial view, and later the 2x2 layout around it."""
    host = QWidget(objectName="viewHost")
    box = QVBoxLayout(host)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(view)
    return host


def add_click_correction(window) -> ClickCorrection:
    """3-D click correction (C): the tool of the axial view (the coronal and sagittal ones follow, CaseViews),
    following the open case."""
    correction = ClickCorrection(window.actions["clicks_change_human"], window)

    def axial_voxel(pos) -> tuple[int, int, int] | None:
        session = window.controller.session
        x, y = snapped(pos)
        if session is None or not (0 <= y < session.volume.shape[1] and 0 <= x < session.volume.shape[2]):
            return None
        return session.current, y, x

    window.controller.case_free_tools["click"] = ClickTool(correction, axial_voxel)
    correction.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    window.case_opened.connect(lambda _case_id: correction.set_session(window.session))
    window.case_closing.connect(lambda: correction.set_session(None))
    return correction
