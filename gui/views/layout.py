"""The view area: one large view, or 2x2 (axial, coronal, sagittal, 3-D), all on one crosshair and window.

    views = ViewLayout(volume, labels, crosshair, window)   # allow_software_gl=True: 3-D on llvmpipe too
    views.set_layout("2x2")            # or "single" (the large view is `views.large`, axial first)
    views.labels_changed({index}, region)  # after an edit of slice `index` (None: all slices)
    views.set_window(window)           # the same window/level in every plane
    views.window_changed.connect(...)  # a right-drag in any plane changed it

`axial=` puts a view of the caller's in the axial place (the main window's editing view, which the
SliceController draws); the layout then draws only the coronal and sagittal planes and the 3-D view.

The 3-D view rebuilds its mesh DEBOUNCE_MS after the last labels_changed(), in a worker thread.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from core.volume import Volume
from core.windowing import Window
from gui.overlay import OverlayStyle
from gui.slice_view import dragged_window
from gui.views.crosshair import Crosshair
from gui.views.ortho_view import OrthoView
from gui.views.planes import LabelSource, Plane, label_crop
from gui.views.surface_mesh import SurfaceBuilder
from gui.views.surface_view import SurfaceView

LAYOUTS = ("single", "2x2")


class ViewLayout(QWidget):
    window_changed = Signal(object)  # Window
    layout_changed = Signal(str)

    def __init__(self, volume: Volume, labels: LabelSource, crosshair: Crosshair, window: Window,
                 style: OverlayStyle | None = None, parent: QWidget | None = None,
                 allow_software_gl: bool = False, axial: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewLayout")
        self.volume, self.labels, self.crosshair, self.window = volume, labels, crosshair, window
        self.style = style or OverlayStyle()
        self.planes = {plane: OrthoView(plane, volume, labels, crosshair, window, self.style, self)
                       for plane in Plane if plane is not Plane.AXIAL or axial is None}
        self.axial: QWidget = axial if axial is not None else self.planes[Plane.AXIAL]
        for view in self.planes.values():
            view.window_drag.connect(self._on_window_drag)
        self.surface = SurfaceView(crosshair, volume.spacing, self, allow_software=allow_software_gl)
        self.builder = SurfaceBuilder(volume, lambda: label_crop(self.labels), parent=self)
        self.builder.mesh_ready.connect(self.surface.set_mesh)
        self.builder.failed.connect(self.surface.show_failure)
        self.surface.started.connect(self.builder.build_now)
        self.large: QWidget = self.axial
        self.mode = "2x2"
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.set_layout("2x2")
        if self.surface.available:
            self.builder.build_now()

    @property
    def views(self) -> list[QWidget]:
        return [self.axial, self.planes[Plane.CORONAL], self.planes[Plane.SAGITTAL], self.surface]

    def set_layout(self, mode: str, large: QWidget | None = None) -> None:
        if mode not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {mode!r}")
        self.mode = mode
        if large is not None:
            self.large = large
        for view in self.views:
            self._grid.removeWidget(view)
            view.hide()
        for n in (0, 1):  # 2x2: four equal places
            self._grid.setRowStretch(n, int(mode == "2x2"))
            self._grid.setColumnStretch(n, int(mode == "2x2"))
        if mode == "single":
            self._grid.addWidget(self.large, 0, 0)
            self.large.show()
        else:
            for position, view in zip(((0, 0), (0, 1), (1, 0), (1, 1)), self.views):
                self._grid.addWidget(view, *position)
                view.show()
        self.layout_changed.emit(mode)

    def set_window(self, window: Window) -> None:
        if window == self.window:
            return
        self.window = window
        for view in self.planes.values():
            view.set_window(window)
        self.window_changed.emit(window)

    def set_style(self, style: OverlayStyle) -> None:
        self.style = style
        for view in self.planes.values():
            view.style = style
            view.render_overlay()

    def labels_changed(self, slices: set[int] | None = None, region=None) -> None:
        """Slices `slices` (None: all) changed, within the (row, col) box `region` (None: anywhere)."""
        for view in self.planes.values():
            view.labels_changed(slices, region)
        if self.surface.available:
            self.builder.labels_changed()

    def _on_window_drag(self, dx: float, dy: float) -> None:
        self.set_window(dragged_window(self.window, dx, dy))

    def closeEvent(self, event) -> None:
        self.close_views()
        super().closeEvent(event)

    def close_views(self) -> None:
        """Stop building and following the crosshair (before the layout is thrown away)."""
        self.builder.wait()
        for view in self.planes.values():
            view.close_view()
        self.surface.close_view()
