""""Export 3-D…": build the mandible mesh, show what a technician checks, save STL/PLY/OBJ, NIfTI, DICOM SEG.

The mesh is built off the GUI thread (gui.workers.BackgroundTask around core.io.mesh.build_mesh); the dialog
shows volume (mL), surface area (cm²), watertightness, face count and a shaded thumbnail before anything is
saved. One save button per file format of core.export.exporters.EXPORTERS, with its default name after the
case; each file is written in a worker by the format's writer, atomically. The save dialog starts in the
case's own export folder (core.export.case_folder: created when a save starts there, marked as the case's
once a file is saved in it), and asks before a file is replaced. Errors are messages, never tracebacks.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
                               QMessageBox, QPushButton, QSpinBox, QVBoxLayout)

from core.annotation.label_volume import find_gaps, labelled_box, require_geometry, slice_ranges
from core.errors import MandibleStudioError
from core.export.case_folder import CaseFolder
from core.export.exporters import Exporter, ExportSource, file_exporters
from core.io.mesh import MandibleMesh, MeshOptions, build_mesh
from core.io.mesh_preview import render_thumbnail
from core.volume import Volume
from gui import dialogs
from gui.workers import BackgroundTask

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256
WRITE_WAIT_MS = 120_000  # closing waits for a file being written (a DICOM SEG reads every CT header again)


class ExportDialog(QDialog):
    """Self-contained: give it the CT and its label volume ([slice, row, col], nonzero = mandible)."""

    mesh_ready = Signal(object)  # MandibleMesh
    build_failed = Signal(str)
    saved = Signal(str)  # the path written
    save_failed = Signal(str)

    def __init__(self, volume: Volume, labels: np.ndarray, parent=None, output_dir: Path | None = None,
                 algorithm: str = "MANUAL", case_name: str | None = None, folder: CaseFolder | None = None) -> None:
        """output_dir: where the save dialogs start (the case's export folder, `folder`, when given); case_name:
        what the files are named after (else mandible.stl, mandible_labels.nii.gz, mandible_seg.dcm)."""
        super().__init__(parent)
        self.setWindowTitle("Export 3-D")
        self.volume, self.labels, self.algorithm = volume, labels, algorithm
        self.folder = folder
        self.output_dir = folder.path if folder is not None else Path(output_dir) if output_dir else Path.home()
        self.case_name = case_name
        self.result: MandibleMesh | None = None
        self._built: tuple[MandibleMesh, np.ndarray] | None = None
        self._task: BackgroundTask | None = None
        self._write_task: BackgroundTask | None = None
        self._problem = self._input_problem()
        self._build_ui()
        if self._problem:
            self._show_problem(self._problem)
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

        self.exporters = {exporter.key: exporter for exporter in file_exporters()}
        self.buttons = {key: QPushButton(exporter.button, enabled=False) for key, exporter in self.exporters.items()}
        buttons = QHBoxLayout()
        for key, button in self.buttons.items():
            button.clicked.connect(lambda _checked=False, key=key: self.save(key))
            buttons.addWidget(button)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)
        buttons.addWidget(close_button)

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
        self.result = None  # the mesh of other options is not saved any more
        self._enable_saving()
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
        self._enable_saving()
        self.mesh_ready.emit(result)

    def _on_failed(self, message: str) -> None:
        self._show_problem(message)
        self.build_failed.emit(message)

    # -- saving ---------------------------------------------------------------------------------
    def save(self, key: str) -> bool:
        """Ask where, then write the format `key` in a worker; `saved` or `save_failed` follows. False when
        nothing was started (no path chosen, a replace declined, a write already running)."""
        exporter = self.exporters[key]
        if self._write_task is not None and self._write_task.is_running:
            return False
        path = self._ask_path(exporter)
        if path is None:
            return False
        source = ExportSource(volume=self.volume, labels=self.labels, algorithm=self.algorithm,
                              mesh=self.result.mesh if self.result is not None else None)
        self._write_task = task = BackgroundTask(
            lambda progress, cancel: exporter.write(path, source), f"{exporter.key} export", self)
        self.status.setText(f"Writing {path.name}…")
        for outcome in (task.result, task.failed, task.cancelled):  # the next save may start right away
            outcome.connect(lambda *_: self._enable_saving())
        task.result.connect(self._after_save)
        task.failed.connect(lambda message: self._save_failed(path, message))
        self._enable_saving(writing=True)
        task.start()
        return True

    def _ask_path(self, exporter: Exporter) -> Path | None:
        """The save dialog, in the case's folder with the format's name after the case; a file that is there
        already is replaced only when the user says so (once: the dialog itself does not ask)."""
        created = not self.output_dir.exists()
        if created:
            self.output_dir.mkdir(parents=True, exist_ok=True)  # so that the dialog can start in it
        try:
            name, _ = QFileDialog.getSaveFileName(self, exporter.button.rstrip("…"),
                                                  str(self.output_dir / exporter.default_name(self.case_name)),
                                                  exporter.file_filter, "",
                                                  QFileDialog.Option.DontConfirmOverwrite)
        finally:
            if created and not any(self.output_dir.iterdir()):
                self.output_dir.rmdir()  # nothing was saved in the folder made for it
        if not name:
            return None
        path = Path(name)
        if path.exists() and not dialogs.ask_replace(self, f"{path.name} is already in {path.parent}. Replace it?"):
            return None
        return path

    def _after_save(self, written) -> None:
        """Say where the file went, in full, and offer to open its folder; the next save starts there."""
        written = Path(written)
        if self.folder is not None and self.folder.owns(written):
            self.folder.claim()
        self.output_dir = written.parent
        self.status.setText(f"Saved {written.name} in {written.parent}")
        self.saved_message = dialogs.show_saved(self, "Export 3-D", f"Saved {written.name}.", written)
        self.saved.emit(str(written))

    def _save_failed(self, path: Path, message: str) -> None:
        self._show_problem(message)
        QMessageBox.warning(self, "Export failed", message)
        self.save_failed.emit(message)

    def _enable_saving(self, writing: bool = False) -> None:
        usable = self._problem is None and not writing
        has_dicom = bool(self.volume.sop_uids and self.volume.series_uid)
        for key, exporter in self.exporters.items():
            self.buttons[key].setEnabled(usable and (self.result is not None or not exporter.needs_mesh)
                                         and (has_dicom or not exporter.needs_dicom))
            if exporter.needs_dicom and not has_dicom:
                self.buttons[key].setToolTip("Needs a CT opened from a DICOM series")

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
        self._enable_saving()

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
