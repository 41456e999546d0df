""""Export 3-D…": build the mandible mesh, show what a technician checks, save STL/PLY/OBJ, NIfTI, DICOM SEG.

The mesh is built off the GUI thread (gui.workers.BackgroundTask around core.io.mesh.build_mesh);
the dialog shows volume (mL), surface area (cm²), watertightness, face count and a shaded
thumbnail before anything is saved. Saving goes through core.io.mesh_export / core.io.dicom_seg,
which write atomically; errors are shown as messages, never as tracebacks.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
                               QMessageBox, QPushButton, QSpinBox, QVBoxLayout)

from core.annotation.label_volume import find_gaps, labelled_box, require_geometry, slice_ranges
from core.errors import MandibleStudioError
from core.io.mesh import MandibleMesh, MeshOptions, build_mesh
from core.io.mesh_export import DEFAULT_NAMES, export_label_nifti, export_mesh
from core.io.mesh_preview import render_thumbnail
from core.volume import Volume
from gui import dialogs
from gui.workers import BackgroundTask

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256
MESH_FILTER = "Binary STL (*.stl);;PLY (*.ply);;Wavefront OBJ (*.obj)"
WRITE_WAIT_MS = 120_000  # closing waits for a DICOM SEG being written


class ExportDialog(QDialog):
    """Self-contained: give it the CT and its label volume ([slice, row, col], nonzero = mandible)."""

    mesh_ready = Signal(object)  # MandibleMesh
    build_failed = Signal(str)
    saved = Signal(str)  # the path written

    def __init__(self, volume: Volume, labels: np.ndarray, parent=None, output_dir: Path | None = None,
                 algorithm: str = "MANUAL", case_name: str | None = None) -> None:
        """output_dir: where the save dialogs start; case_name: what the files are named after (else
        mandible.stl, mandible_labels.nii.gz, mandible_seg.dcm)."""
        super().__init__(parent)
        self.setWindowTitle("Export 3-D")
        self.volume, self.labels, self.algorithm = volume, labels, algorithm
        self.output_dir = Path(output_dir) if output_dir else Path.home()
        self.names = file_names(case_name)
        self.result: MandibleMesh | None = None
        self._built: tuple[MandibleMesh, np.ndarray] | None = None
        self._task: BackgroundTask | None = None
        self._write_task: BackgroundTask | None = None
        self._build_ui()
        problem = self._input_problem()
        if problem:
            self._show_problem(problem)
            self.rebuild_button.setEnabled(False)
        else:
            self._show_gaps()
            self.rebuild()

    # -- layout ---------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.smooth_spin = QSpinBox(minimum=0, maximum=200, value=MeshOptions.smooth_iterations)
        self.faces_spin = QSpinBox(minimum=0, maximum=2_000_000, singleStep=1000, value=0, specialValueText="all")
        self.largest_check = QCheckBox("Keep only the large parts")
        self.largest_check.setToolTip("Leave out every part smaller than a quarter of the largest (specks, stray "
                                      "blobs); the two rami of a scan that starts above the chin both stay")
        self.rebuild_button = QPushButton("Rebuild")
        self.rebuild_button.clicked.connect(self.rebuild)
        options = QFormLayout()
        options.addRow("Smoothing iterations", self.smooth_spin)
        options.addRow("Target faces", self.faces_spin)
        options.addRow(self.largest_check, self.rebuild_button)

        self.values = {key: QLabel("…") for key in ("volume", "area", "watertight", "faces", "gaps")}
        facts = QGridLayout()
        for row, (key, text) in enumerate((("volume", "Volume"), ("area", "Surface area"),
                                           ("watertight", "Watertight"), ("faces", "Faces"),
                                           ("gaps", "Slices without mandible"))):
            facts.addWidget(QLabel(text), row, 0)
            facts.addWidget(self.values[key], row, 1)
        self.thumbnail = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setFixedSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        self.status = QLabel("", wordWrap=True)

        self.save_mesh_button = QPushButton("Save mesh (STL/PLY/OBJ)…")
        self.save_nifti_button = QPushButton("Save NIfTI…")
        self.save_seg_button = QPushButton("Save DICOM SEG…")
        close_button = QPushButton("Close")
        self.save_mesh_button.clicked.connect(self.save_mesh)
        self.save_nifti_button.clicked.connect(self.save_nifti)
        self.save_seg_button.clicked.connect(self.save_dicom_seg)
        close_button.clicked.connect(self.reject)
        for button in (self.save_mesh_button, self.save_nifti_button, self.save_seg_button):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (self.save_mesh_button, self.save_nifti_button, self.save_seg_button, close_button):
            buttons.addWidget(button)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addLayout(options)
        left.addLayout(facts)
        left.addStretch(1)
        top.addLayout(left)
        top.addWidget(self.thumbnail)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    # -- building -------------------------------------------------------------------------------
    def options(self) -> MeshOptions:
        return MeshOptions(smooth_iterations=self.smooth_spin.value(),
                           target_faces=self.faces_spin.value() or None,
                           keep_largest=self.largest_check.isChecked())

    def rebuild(self) -> None:
        """Build the mesh with the current options in a worker; mesh_ready or build_failed follows."""
        if self._task is not None and self._task.is_running:
            return
        volume, labels, options = self.volume, self.labels, self.options()

        def job(progress, cancel):
            result = build_mesh(labels, volume, options, progress=progress, cancel=cancel)
            return result, render_thumbnail(result.mesh, THUMBNAIL_SIZE)

        self.rebuild_button.setEnabled(False)
        self.save_mesh_button.setEnabled(False)
        self.status.setText("Building the mesh…")
        self._task = BackgroundTask(job, "mesh export", parent=self)
        self._task.progress.connect(lambda step, total, message: self.status.setText(f"Building the mesh: {message}…"))
        self._task.result.connect(lambda value: setattr(self, "_built", value))
        self._task.failed.connect(self._on_failed)
        self._task.finished.connect(self._on_finished)
        self._built = None
        self._task.start()

    def _on_finished(self) -> None:
        """The worker thread has ended: show the new mesh, if any, and allow the next build."""
        self.rebuild_button.setEnabled(True)
        if self._built is not None:
            self._show_mesh(*self._built)

    def _show_mesh(self, result: MandibleMesh, image: np.ndarray) -> None:
        self.result = result
        self.values["volume"].setText(f"{result.volume_ml:.1f} mL")
        self.values["area"].setText(f"{result.area_cm2:.1f} cm²")
        self.values["watertight"].setText("yes" if result.watertight else "NO — not printable as is")
        self.values["faces"].setText(f"{result.faces:,}")
        height, width = image.shape[:2]
        qimage = QImage(np.ascontiguousarray(image).data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.thumbnail.setPixmap(QPixmap.fromImage(qimage.copy()))
        dropped = f"; {result.parts_dropped} small part(s) left out" if result.parts_dropped else ""
        self.status.setText(f"Mesh built in {result.build_seconds:.1f} s{dropped}.")
        self.save_mesh_button.setEnabled(True)
        self.mesh_ready.emit(result)

    def _on_failed(self, message: str) -> None:
        self._show_problem(message)
        self.build_failed.emit(message)

    # -- saving ---------------------------------------------------------------------------------
    def save_mesh(self) -> Path | None:
        if self.result is None:
            return None
        path = self._ask_path("Save mandible mesh", self.names["mesh"], MESH_FILTER)
        return self._save(path, lambda p: export_mesh(p, self.result.mesh))

    def save_nifti(self) -> Path | None:
        path = self._ask_path("Save label volume", self.names["nifti"], "NIfTI (*.nii.gz *.nii)")
        return self._save(path, lambda p: export_label_nifti(p, self.labels, self.volume))

    def save_dicom_seg(self) -> bool:
        """Write the DICOM SEG in a worker (it reads every CT header again); `saved` follows. False if not started."""
        from core.io.dicom_seg import export_dicom_seg

        path = self._ask_path("Save DICOM SEG", self.names["dicom_seg"], "DICOM (*.dcm)")
        if path is None or (self._write_task is not None and self._write_task.is_running):
            return False
        labels, volume, algorithm = self.labels, self.volume, self.algorithm
        self._write_task = task = BackgroundTask(
            lambda progress, cancel: export_dicom_seg(path, labels, volume, algorithm), "DICOM SEG export", self)
        self.save_seg_button.setEnabled(False)
        self.status.setText(f"Writing {path.name}…")
        task.result.connect(self._after_save)
        task.failed.connect(lambda message: self._save_failed(path, message))
        task.finished.connect(lambda: self.save_seg_button.setEnabled(True))
        task.start()
        return True

    def _ask_path(self, title: str, default_name: str, filters: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, title, str(self.output_dir / default_name), filters)
        return Path(name) if name else None

    def _save(self, path: Path | None, write) -> Path | None:
        if path is None:
            return None
        try:
            written = write(path)
        except Exception as exc:  # a writer's own error (trimesh, highdicom) must be a message, too
            message = str(exc) if isinstance(exc, MandibleStudioError) else f"{path.name} could not be written: {exc}"
            if not isinstance(exc, MandibleStudioError):
                log.exception("export to %s failed", path)
            self._save_failed(path, message)
            return None
        self._after_save(written)
        return written

    def _after_save(self, written) -> None:
        """Say where the file went, in full, and offer to open its folder; the next save starts there."""
        written = Path(written)
        self.output_dir = written.parent
        self.status.setText(f"Saved {written.name} in {written.parent}")
        self.saved_message = dialogs.show_saved(self, "Export 3-D", f"Saved {written.name}.", written)
        self.saved.emit(str(written))

    def _save_failed(self, path: Path, message: str) -> None:
        self._show_problem(message)
        QMessageBox.warning(self, "Export failed", message)

    # -- messages -------------------------------------------------------------------------------
    def _input_problem(self) -> str | None:
        try:
            require_geometry(self.volume)
            labelled_box(self.labels, self.volume)  # the shape and something to export, without a copy
        except MandibleStudioError as exc:
            return str(exc)
        return None

    def _show_gaps(self) -> None:
        gaps = find_gaps(np.asarray(self.labels))
        self.values["gaps"].setText(f"{len(gaps)} ({slice_ranges(gaps)})" if gaps else "none")
        self.save_nifti_button.setEnabled(True)
        has_dicom = bool(self.volume.sop_uids and self.volume.series_uid)
        self.save_seg_button.setEnabled(has_dicom)
        if not has_dicom:
            self.save_seg_button.setToolTip("DICOM SEG needs a CT opened from a DICOM series")

    def _show_problem(self, message: str) -> None:
        self.status.setText(f"<b>Cannot export:</b> {message}")
        log.warning("export: %s", message)

    def done(self, code: int) -> None:
        if self._task is not None and self._task.is_running:
            self._task.cancel()
            self._task.wait(10000)
        if self._write_task is not None and self._write_task.is_running:
            self._write_task.wait(WRITE_WAIT_MS)  # a half-written file is never left: the write is atomic
        super().done(code)


def file_names(case_name: str | None) -> dict[str, str]:
    """The suggested file names: after the case (its source's name, never the patient's), else DEFAULT_NAMES."""
    stem = re.sub(r"[^\w.-]+", "_", case_name or "").strip("._")
    if not stem:
        return dict(DEFAULT_NAMES)
    return {"mesh": f"{stem}.stl", "nifti": f"{stem}_labels.nii.gz", "dicom_seg": f"{stem}_seg.dcm"}
