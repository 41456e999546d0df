"""Linked views of the open CT: axial, coronal and sagittal reslices and a live 3-D surface.

crosshair.py and planes.py are plain Python (no Qt): the shared (slice, row, col) point and the
reslicing of the CT and its labels. ortho_view.py, surface.py and layout.py are the widgets.
"""
