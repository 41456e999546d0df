"""The main window: cases and slices on the left, the slice view in the centre, tools and overlay
settings on the right, a status bar below. It opens cases (in a worker, with a progress bar), saves
them, autosaves a few seconds after an edit and asks before closing with unsaved edits.
Every action (menus, toolbar, shortcuts, when enabled) is declared in gui/actions.py; what happens on the slice
lives in gui/slice_controller.py.
"""
from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QSlider

from core.app_paths import DISPLAY_NAME
from core.errors import MandibleStudioError
from core.windowing import WINDOW_PRESETS
from core.workspace import OpenCase, SaveError, Workspace
from core.workspace.opening import SeriesChoice, open_case_at, read_label_volume
from gui.ai.ai_controller import AiController
from gui.case_exports import CaseExports
from gui.case_session import CaseSession
from gui import dialogs
from gui.close_guard import may_close
from gui.grey_values import GreyValues
from gui.help import Help
from gui.history_view import CaseHistoryActions
from gui.multi_slice import MultiSlice
from gui.panels.case_list import CaseList
from gui.panels.overlay_panel import OverlayPanel
from gui.panels.slice_list import SliceList
from gui.panels.tool_panel import ToolPanel
from gui.saved_notice import OpenFolderButton
from gui.slice_controller import SliceController
from gui.slice_view import SliceView
from gui.tool_settings import ToolSettings
from gui.views.wiring import CaseViews, add_click_correction, view_host
from gui.window_actions import Actions
from gui.window_jobs import WindowJobs
from gui.window_layout import add_fixed_dock, central_area, fit_to_screen, scrolling_column, titled_split
from gui.workspace_cases import CaseListing, window_title

log = logging.getLogger(__name__)

AUTOSAVE_MS = 3000
SETTINGS_FILE = "settings.ini"  # the user's choices (export folder), kept with the workspace
# Drafts are written a few at a time, so a whole case of predictions never stalls the GUI (decision 141).
DRAFT_BUDGET_S = 0.03
DRAFT_PAUSE_MS = 15


class MainWindow(QMainWindow):
    case_closing = Signal()  # another case is about to replace the open one: stop feeding it
    case_opened = Signal(str)  # case id
    open_failed = Signal(str)
    saved = Signal(list)  # slice indexes written
    save_failed = Signal(str)
    labels_imported = Signal(int)  # number of slices

    def __init__(self, workspace: Workspace | str | Path, autosave_ms: int = AUTOSAVE_MS) -> None:
        super().__init__()
        self.setWindowTitle(DISPLAY_NAME)
        self.setAcceptDrops(True)
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace.create(workspace)
        self.session: CaseSession | None = None
        self.jobs = WindowJobs(self)
        self.tool_settings = ToolSettings(self)
        self._build_central()
        self.controller = SliceController(self.view, self.slice_list, self.slider, self.status_labels,
                                          self.tool_settings, self)
        self.controller.measured.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.controller.message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.exports = CaseExports(self, self.workspace.root / SETTINGS_FILE)
        self.help = Help(self)
        self.actions = Actions(self)  # every action of gui/actions.py, its callback given this window
        self.actions.build_menus()
        self.multi_slice = MultiSlice(self.actions["replace_predicted"], self.controller.show_slice, self)
        self.multi_slice.message.connect(self.statusBar().showMessage)  # stays until the next message
        self.case_closing.connect(lambda: self.multi_slice.set_session(None))
        self.click_correction = add_click_correction(self)  # C: the 3-D click tool (gui/click_correction.py)
        self.toolbar = self.actions.build_toolbar()
        self._build_docks()
        self._build_status_bar()
        self.history = CaseHistoryActions(self.actions, self)  # Undo / Redo tooltips, Edit ▸ History
        self.autosave_ms = autosave_ms
        self.autosave_timer = QTimer(self, singleShot=True, interval=autosave_ms)
        self.autosave_timer.timeout.connect(self._write_some_drafts)
        self.cases.refresh()
        self.ai = AiController(self, self.workspace, self.tools_dock)
        self.case_closing.connect(lambda: self.ai.set_session(None))
        self.grey_values = GreyValues(self)  # View -> Grey Values…, the calibration in the status bar
        self._follow_enable_rules()
        fit_to_screen(self)

    # --- layout (gui/window_layout.py) -------------------------------------------------------------
    def _build_central(self) -> None:
        self.view = SliceView()
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="sliceSlider")
        self.slider.setToolTip("Slice (mouse wheel, A / D)")
        self.view_host = view_host(self.view)
        self.case_views: CaseViews | None = None
        self.setCentralWidget(central_area(self.view_host, self.slider))
        self.slice_list = SliceList()
        self.case_list = CaseList()
        self.case_list.case_activated.connect(self.open_path)
        self.cases = CaseListing(self)  # refresh, rename, remove (gui/workspace_cases.py)
        self.case_list.show_folder_requested.connect(dialogs.open_folder)
        self.status_labels = {key: QLabel() for key in ("slice", "hu", "zoom", "window")}

    def _build_docks(self) -> None:
        left = titled_split([("Cases", self.case_list), ("Slices", self.slice_list.panel())], [180, 600])
        width = max(230, self.slice_list.widest_row())  # every slice row whole
        add_fixed_dock(self, "Case", left, Qt.DockWidgetArea.LeftDockWidgetArea, width)
        self.tool_panel = ToolPanel(self.actions)
        self.overlay_panel = OverlayPanel(self.actions, self.controller.style, WINDOW_PRESETS)
        right = scrolling_column(self.tool_panel, self.overlay_panel)
        self.tools_dock = add_fixed_dock(self, "Tools", right, Qt.DockWidgetArea.RightDockWidgetArea, 270)
        self.tool_panel.bind(self.tool_settings)
        self.overlay_panel.style_changed.connect(self.controller.set_overlay_style)
        self.controller.style_changed.connect(self.overlay_panel.show_style)
        self.overlay_panel.preset_chosen.connect(self.controller.apply_preset)
        self.overlay_panel.window_changed.connect(self.controller.set_center_width)
        self.controller.window_changed.connect(self.overlay_panel.show_window)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = self.jobs.progress
        bar.addPermanentWidget(self.progress)
        self.open_saved_folder = OpenFolderButton()
        bar.addPermanentWidget(self.open_saved_folder)
        for key in ("slice", "hu", "zoom", "window"):
            self.status_labels[key].setObjectName(f"status_{key}")
            bar.addPermanentWidget(self.status_labels[key])

    def _follow_enable_rules(self) -> None:
        """The actions' enable rules (gui/actions.py) are asked again whenever what they read changes: the open
        case (`_install_case`), its history, a propagation, a segmentation, training and the model versions."""
        ai = self.ai
        for signal in (self.multi_slice.running_changed, ai.segmenting.predict.started,
                       ai.segmenting.predict.finished, ai.training.train.started, ai.training.train.finished,
                       ai.models.versions_changed):
            signal.connect(lambda *_: self.actions.refresh())
        self.actions.refresh()

    # --- opening ----------------------------------------------------------------------------------
    def open_folder_dialog(self) -> None:
        paths = dialogs.choose_files(self, "Open a DICOM, image or Labelme folder", folder=True)
        if paths:
            self.open_path(paths[0])

    def open_file_dialog(self) -> None:
        paths = dialogs.choose_files(self, "Open a CT", filters="CT files (*.nii *.nii.gz *.dcm);;All files (*)")
        if paths:
            self.open_path(paths[0])

    @property
    def task(self):
        """The window's running (or last) job: opening, saving, importing, exporting (gui/window_jobs.py)."""
        return self.jobs.task

    def open_path(self, path, series_uid: str | None = None) -> bool:
        """Open a CT in the background; False when another job is still running."""
        if not self.jobs.free():
            return False
        if (waiting := self.ai.cases.blocks_opening(path)) is not None:
            dialogs.show_error(self, "Cannot open yet", waiting)
            return False
        if not self.keep_draft():
            return False
        path = Path(path)
        job = partial(open_case_at, self.workspace, path, series_uid)
        return self.jobs.run(job, f"Opening {path.name}", self._on_case_loaded, self._on_open_failed)

    def run_job(self, job, title: str, on_result, on_failed) -> bool:
        """Run a long job of another part (exports) with the window's progress bar; False while one runs."""
        return self.jobs.run(job, title, on_result, on_failed)

    def _on_open_failed(self, message: str) -> None:
        self.statusBar().showMessage("Could not open the case.", 5000)
        dialogs.show_error(self, "Cannot open", message)
        self.open_failed.emit(message)

    def _on_case_loaded(self, loaded) -> None:
        if isinstance(loaded, SeriesChoice):
            uid = dialogs.choose_series(self, loaded.series)
            if uid is not None:
                QTimer.singleShot(0, lambda: self.open_path(loaded.path, uid))
            else:
                self.open_failed.emit("no series chosen")
            return
        self._install_case(loaded)

    def _install_case(self, case: OpenCase) -> None:
        if not self.keep_draft():  # the user edited while the other case loaded, and the disk refuses
            self.open_failed.emit("the open case's draft could not be written")
            return
        old = self.session
        if self.case_views is not None:
            self.case_views.close()  # before the controller shows the new case: the old views follow it no more
        if old is not None:
            old.close()
            old.deleteLater()
        session = CaseSession(case, self)
        session.edited.connect(self._schedule_autosave)
        session.status_changed.connect(self.cases.follow)  # the list's "N done" stays true
        session.history_changed.connect(lambda: self.actions.refresh())  # Undo, Redo
        self.session = session
        for panel in (self.tool_panel, self.overlay_panel):
            panel.set_units(case.volume.units)
        self.controller.set_session(session)
        self.case_views = CaseViews.replacing(self.case_views, session, self.controller, self.view_host, self)
        self.multi_slice.set_session(session)
        self.history.set_session(session)
        self.ai.set_session(session)
        self.actions.refresh()
        self.setWindowTitle(window_title(session))
        self.statusBar().showMessage(f"Opened {case.record.display_name}", 5000)
        self.cases.refresh()
        if case.warnings:
            dialogs.show_warnings(self, "Opened with warnings", case.warnings)
        self.case_opened.emit(case.store.case_id)

    # --- labels -----------------------------------------------------------------------------------
    def import_labels_dialog(self) -> None:
        paths = dialogs.choose_files(self, "Import labels: a NIfTI label volume, or any JSON of a Labelme folder",
                                     filters="Labels (*.nii *.nii.gz *.json);;All files (*)")
        if paths:
            self.import_labels(paths[0])

    def import_labels(self, path) -> bool:
        if self.session is None or self.jobs.busy:
            return False
        job = partial(read_label_volume, Path(path), self.session.volume)
        return self.jobs.run(job, f"Importing {Path(path).name}", self._on_labels_loaded, self._on_import_failed)

    def _on_labels_loaded(self, labels) -> None:
        try:
            imported = self.session.import_labels(labels)
        except MandibleStudioError as exc:
            self._on_import_failed(str(exc))
            return
        self.statusBar().showMessage(f"Imported labels on {len(imported)} slices (unsaved)", 5000)
        self.labels_imported.emit(len(imported))

    def _on_import_failed(self, message: str) -> None:
        dialogs.show_error(self, "Cannot import labels", message)

    # --- saving -----------------------------------------------------------------------------------
    def _schedule_autosave(self) -> None:
        if not self.autosave_timer.isActive():
            self.autosave_timer.start(self.autosave_ms)

    def _write_some_drafts(self) -> None:
        """The autosave timer: drafts for about DRAFT_BUDGET_S, then the GUI gets a turn before the next ones."""
        if self.session is None:
            return
        try:
            self.session.write_drafts(max_seconds=DRAFT_BUDGET_S)
        except SaveError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return
        if self.session.has_pending_drafts:
            self.autosave_timer.start(DRAFT_PAUSE_MS)

    def autosave_now(self) -> bool:
        """Write the drafts of every slice changed since the last one; False (and a message) on a disk error."""
        self.autosave_timer.stop()
        if self.session is None or not self.session.has_pending_drafts:
            return True
        try:
            written = self.session.write_drafts()
        except SaveError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return False
        self.statusBar().showMessage(f"Autosaved {len(written)} slice(s)", 2000)
        return True

    def keep_draft(self, then: str = "open the other case") -> bool:
        """Before the open case goes (another case, or closing): stop what feeds it and keep its unsaved work
        as a draft, which comes back, still unsaved, when the case is opened again (decision 044).

        False (and a message) when the draft cannot be written; the case then stays open.
        """
        if self.session is None:
            return True
        self.case_closing.emit()
        if not self.autosave_now():
            dialogs.show_error(self, "Cannot keep the unsaved work",
                               "The unsaved work on this case could not be written to the workspace, so it stays "
                               f"open. Free some disk space, or save it with Ctrl+S, then {then} again.")
            return False
        self.remember_view_state()
        return True

    def remember_view_state(self) -> None:
        """Write the case's last slice and window so that reopening comes back to them."""
        if self.session is None:
            return
        try:
            self.session.flush()
        except SaveError as exc:
            log.warning("could not remember the last slice: %s", exc)

    def save_case(self) -> bool:
        """Ctrl+S: write Labelme JSON + PNG for every unsaved slice, in the background."""
        if self.session is None or self.jobs.busy:
            return False
        self.autosave_now()
        session = self.session
        plan = session.prepare_save()
        return self.jobs.run(plan.run, "Saving", lambda result: self._on_saved(session, plan, result),
                             self._on_save_failed)

    def save_now(self) -> bool:
        """Save in the GUI thread (used when closing); True on success."""
        try:
            self.session.save()
        except MandibleStudioError as exc:
            self._on_save_failed(str(exc))
            return False
        self.controller.refresh_statuses()
        return True

    def _on_saved(self, session: CaseSession, plan, result) -> None:
        try:
            session.finish_save(plan, result)
        except SaveError as exc:
            self._on_save_failed(str(exc))
            return
        folder = session.store.annotations_dir
        self.statusBar().showMessage(f"Saved {len(result.saved)} slice(s) to {folder}", 15000)
        self.open_saved_folder.offer(folder)
        self.saved.emit(list(result.saved))

    def _on_save_failed(self, message: str) -> None:
        self.controller.refresh_statuses()
        dialogs.show_error(self, "Save failed", message)
        self.save_failed.emit(message)

    # --- closing, drag and drop -------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if may_close(self, self.ai):  # every question first, then the work (gui/close_guard.py)
            event.accept()
        else:
            event.ignore()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0])

