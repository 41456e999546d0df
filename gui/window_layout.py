"""How the main window's widgets are arranged: the view with its slider in the centre, cases and slices on
the left, tools and overlay settings on the right, fixed docks without title bars. Only arrangement lives
here; the window connects the widgets."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget)

# The window opens at most this size (logical pixels), and never larger than the screen's free area.
LARGEST_START_SIZE = QSize(1600, 1000)
# Room left for the window manager's title bar and borders, which frameGeometry adds to the window.
FRAME_ALLOWANCE = QSize(16, 40)


def central_area(*widgets: QWidget) -> QWidget:
    """The widgets stacked without margins; the first one takes the spare height."""
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for n, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if n == 0 else 0)
    return central


def titled_split(parts: list[tuple[str, QWidget]], sizes: list[int]) -> QSplitter:
    """Panels one above the other, each under a small title, with draggable splitters between them."""
    split = QSplitter(Qt.Orientation.Vertical)
    for title, widget in parts:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(QLabel(title, objectName="panelTitle"))
        layout.addWidget(widget)
        split.addWidget(box)
    split.setSizes(sizes)
    return split


def scrolling_column(*widgets: QWidget) -> QScrollArea:
    """The widgets one above the other, top-aligned, scrolling vertically when the window is short."""
    column = QWidget()
    layout = QVBoxLayout(column)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    scroll = QScrollArea(widgetResizable=True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(column)
    # As wide as the column needs, with room for the vertical scroll bar: nothing is cut off at the side.
    scroll.setMinimumWidth(column.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
    return scroll


def add_fixed_dock(window: QMainWindow, title: str, widget: QWidget, area: Qt.DockWidgetArea,
                   width: int) -> QDockWidget:
    """A movable dock without a title bar (objectName dock<title>), at least `width` pixels wide."""
    dock = QDockWidget(title, window, objectName=f"dock{title}")
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
    dock.setTitleBarWidget(QWidget())
    widget.setMinimumWidth(max(width, widget.minimumWidth()))
    window.addDockWidget(area, dock)
    return dock


def fit_to_screen(window: QWidget) -> QRect:
    """Size and place the window inside its screen's free area (without task bars), whatever the screen's
    size and scaling; the geometry it was given."""
    available = window.screen().availableGeometry()
    size = (available.size() - FRAME_ALLOWANCE).boundedTo(LARGEST_START_SIZE)
    size = size.expandedTo(window.minimumSizeHint()).boundedTo(available.size())
    geometry = QRect(available.topLeft(), size)
    geometry.moveCenter(available.center())
    window.setGeometry(geometry)
    return geometry


def fit_dialog(dialog: QWidget, wanted: QSize) -> QRect:
    """Size a dialog to what its content wants but never beyond its screen's free area less the window frame (its
    content scrolls then); a dialog on screen is moved inside that area. Returns the geometry it was given."""
    available = dialog.screen().availableGeometry()
    side, top = FRAME_ALLOWANCE.width() // 2, FRAME_ALLOWANCE.height() - FRAME_ALLOWANCE.width() // 2
    inner = available.adjusted(side, top, -side, -side)  # where the dialog's own area may lie: the frame fits around
    size = wanted.expandedTo(dialog.minimumSizeHint()).boundedTo(inner.size())
    if not dialog.isVisible():
        dialog.resize(size)
        return QRect(dialog.geometry().topLeft(), size)
    geometry = QRect(dialog.geometry().topLeft(), size)
    geometry.moveLeft(max(inner.left(), min(geometry.left(), inner.right() + 1 - size.width())))
    geometry.moveTop(max(inner.top(), min(geometry.top(), inner.bottom() + 1 - size.height())))
    dialog.setGeometry(geometry)
    return geometry
