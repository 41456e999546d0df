"""The live 3-D view: the mandible surface in a vispy canvas (as napari draws), rotatable and zoomable.

Left-drag rotates, the wheel zooms, Shift+drag pans (vispy's turntable camera); a click without a
drag on the surface moves the crosshair there. Without a usable OpenGL context (no display, a
remote session without GL, a driver older than OpenGL 2.1) the view shows why instead, and the rest
of the app works as before. On software OpenGL (llvmpipe) it waits for the user to ask for it,
since an OpenGL widget there slows every repaint of the window (docs/decisions/160-3d-view-vispy.md).
"""
from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext
from PySide6.QtWidgets import QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from gui.views.crosshair import Crosshair, Point
from gui.views.surface_mesh import SurfaceMesh, pick, to_display, to_index

log = logging.getLogger(__name__)

GL_RENDERER = 0x1F01
# Renderers that draw OpenGL on the CPU: with one of them, an OpenGL widget makes Qt compose the
# whole window through OpenGL, and every repaint of every view gets far slower (decision 160).
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "swiftshader", "gdi generic", "basic render")
BONE_RGBA = (0.92, 0.88, 0.80, 1.0)
BACKGROUND = "#282c34"
CLICK_SLOP_PX = 4


def opengl_problem() -> str | None:
    """Why this session cannot show a 3-D view, in plain words; None when it can (needs a QApplication)."""
    return _opengl()[0]


def software_renderer() -> str | None:
    """The renderer's name when OpenGL is drawn by the CPU (llvmpipe and the like), else None."""
    return _opengl()[1]


@lru_cache(maxsize=1)
def _opengl() -> tuple[str | None, str | None]:
    if QGuiApplication.instance() is None:
        raise RuntimeError("create the QApplication before asking whether OpenGL works")
    try:
        import vispy

        vispy.use(app="pyside6")
    except ImportError:
        return "No 3-D view: the 'vispy' package is not installed.", None
    except RuntimeError as exc:  # vispy already bound to another Qt binding in this process
        return f"No 3-D view: {exc}", None
    platform = QGuiApplication.platformName()
    context, surface = QOpenGLContext(), QOffscreenSurface()
    surface.create()
    if not context.create() or not context.makeCurrent(surface):
        return (f"No 3-D view: this session has no usable OpenGL (Qt platform '{platform}'). "
                "The slice views work as usual; on a desktop with graphics drivers the 3-D view appears here.",
                None)
    version = (context.format().majorVersion(), context.format().minorVersion())
    renderer = str(context.functions().glGetString(GL_RENDERER) or "")
    context.doneCurrent()
    if version < (2, 1):
        return f"No 3-D view: the graphics driver offers OpenGL {version[0]}.{version[1]}; 2.1 or newer is needed.", None
    software = renderer if any(name in renderer.lower() for name in SOFTWARE_RENDERERS) else None
    return None, software


class SurfaceView(QWidget):
    started = Signal()  # the canvas exists (at once, or when the user asks for it on software OpenGL)

    def __init__(self, crosshair: Crosshair, spacing, parent: QWidget | None = None,
                 allow_software: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("surfaceView")
        self.crosshair, self.spacing = crosshair, tuple(float(s) for s in spacing)
        self.mesh: SurfaceMesh | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.title = QLabel("3-D  (drag rotates, wheel zooms, click moves the crosshair)", objectName="surfaceTitle")
        self.title.setStyleSheet(f"background: {BACKGROUND}; color: #ebebeb; padding: 4px 8px;")
        column.addWidget(self.title)
        self._layout = QStackedLayout()
        column.addLayout(self._layout, 1)
        self._layout.addWidget(self._message_panel())
        self.problem = opengl_problem()
        self.canvas = None
        if self.problem is None and (software_renderer() is None or allow_software):
            self._make_canvas()
        elif self.problem is None:
            self._offer_software(software_renderer())
        else:
            self.message.setText(self.problem)
            log.info("%s", self.problem)

    @property
    def available(self) -> bool:
        return self.canvas is not None

    def start_anyway(self) -> None:
        """Show the 3-D view on software OpenGL after all (the user's choice)."""
        if self.canvas is None and self.problem is None:
            self._make_canvas()
            if self.mesh is not None:
                mesh, self.mesh = self.mesh, None
                self.set_mesh(mesh)

    def set_mesh(self, mesh: SurfaceMesh | None) -> None:
        first = self.mesh is None
        self.mesh = mesh
        if self.canvas is None:
            return
        if mesh is None:
            self._surface.visible = False
        else:
            self._surface.set_data(vertices=mesh.vertices, faces=mesh.faces, color=BONE_RGBA)
            self._surface.visible = True
            if first:
                low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
                self._view.camera.set_range(x=(low[0], high[0]), y=(low[1], high[1]), z=(low[2], high[2]))
        self._on_crosshair(self.crosshair.point)

    def show_failure(self, message: str) -> None:
        self.message.setText(message)
        self.start_button.hide()
        self._layout.setCurrentIndex(0)

    def render_image(self) -> np.ndarray | None:
        """RGBA [h, w, 4] of what the canvas shows (screenshots, benchmarks); None without OpenGL."""
        return None if self.canvas is None else self.canvas.render()

    def pick_at(self, x: float, y: float) -> Point | None:
        """The voxel of the surface under canvas pixel (x, y), or None off the surface."""
        if self.canvas is None or self.mesh is None:
            return None
        to_scene = self._surface.get_transform(map_from="canvas", map_to="visual")
        near, far = (to_scene.map([x, y, z, 1.0]) for z in (-1.0, 1.0))
        near, far = near[:3] / near[3], far[:3] / far[3]
        hit = pick(near, far - near, self.mesh)
        return None if hit is None else to_index(hit, self.spacing)

    def _message_panel(self) -> QWidget:
        """Why there is no 3-D view, and on software OpenGL a button to show it anyway."""
        panel = QWidget(self)
        panel.setStyleSheet(f"background: {BACKGROUND}; color: #d0d0d0;")
        self.message = QLabel(panel)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.start_button = QPushButton("Show the 3-D view anyway", panel)
        self.start_button.clicked.connect(self.start_anyway)
        self.start_button.hide()
        column = QVBoxLayout(panel)
        column.addStretch(1)
        column.addWidget(self.message)
        column.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)
        return panel

    def _offer_software(self, renderer: str) -> None:
        self.message.setText(f"3-D view paused: this computer draws OpenGL in software ({renderer}), "
                             "which would slow every view in the window. The slice views work as usual.")
        self.start_button.show()
        log.info("3-D view paused: software OpenGL (%s)", renderer)

    # --- vispy -----------------------------------------------------------------------------------
    def _make_canvas(self) -> None:
        from vispy import scene
        from vispy.scene import visuals

        self.canvas = scene.SceneCanvas(keys=None, show=False, bgcolor=BACKGROUND, parent=self)
        self._view = self.canvas.central_widget.add_view()
        self._view.camera = scene.TurntableCamera(elevation=15.0, azimuth=-35.0, fov=30.0)
        self._surface = visuals.Mesh(shading="smooth", parent=self._view.scene)
        self._surface.visible = False
        self._marker = visuals.Markers(parent=self._view.scene)
        self._marker.visible = False
        self._layout.addWidget(self.canvas.native)
        self._layout.setCurrentWidget(self.canvas.native)
        self._press: tuple[float, float] | None = None
        self.canvas.events.mouse_press.connect(self._on_press)
        self.canvas.events.mouse_release.connect(self._on_release)
        self.crosshair.add_listener(self._on_crosshair)
        self.started.emit()

    def _on_press(self, event) -> None:
        self._press = tuple(event.pos[:2]) if event.button == 1 else None

    def _on_release(self, event) -> None:
        if self._press is None or event.button != 1:
            return
        moved = np.hypot(event.pos[0] - self._press[0], event.pos[1] - self._press[1])
        self._press = None
        if moved <= CLICK_SLOP_PX:
            point = self.pick_at(*event.pos[:2])
            if point is not None:
                self.crosshair.move_to(*point)

    def _on_crosshair(self, point: Point) -> None:
        if self.canvas is None or self.mesh is None:
            return
        where = to_display(np.array([point], float), self.spacing)
        self._marker.set_data(where, face_color=(0.47, 1.0, 0.47, 1.0), size=10, edge_width=0)
        self._marker.visible = True

    def close_view(self) -> None:
        if self.canvas is not None:
            self.crosshair.remove_listener(self._on_crosshair)
