"""The model versions panel: every version with its metrics, how a new one compares with the model that was
active (on the same validation slices), and Activate / Roll Back / Import / Export."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from core.workspace.model_versions import ModelVersion

# Plain words on screen; the technical term is in each header's tooltip (one word for each idea: the training
# panel's "Match" is Dice too).
COLUMNS = (("", "● marks the active model"), ("Version", ""), ("Origin", "starter, imported or trained here"),
           ("Date", ""), ("Trained on", "The cases and slices the model learnt from"),
           ("Match", "Dice coefficient on slices kept aside for checking: 1 is a perfect match"),
           ("Overlap", "Mean IoU (intersection over union) on the same slices: 1 is a perfect overlap"),
           ("Gain", "Change in match (Dice) against the model that was active when this one was trained, "
                    "on the same slices"))
NO_MODEL = ("<b>No model yet.</b> To segment, either <b>Import model…</b> (a .msmodel file), or train one: "
            "correct and save some slices, mark good ones reviewed (R), then <b>Retrain</b>.")


class VersionsPanel(QWidget):
    activate_requested = Signal(str)  # version id
    rollback_requested = Signal()
    import_requested = Signal()
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versionsPanel")
        layout = QVBoxLayout(self)
        self.hint = QLabel(NO_MODEL, objectName="versionsHint", wordWrap=True)
        self.table = QTableWidget(0, len(COLUMNS), objectName="versionsTable")
        for column, (title, tip) in enumerate(COLUMNS):
            header = QTableWidgetItem(title)
            header.setToolTip(tip)
            self.table.setHorizontalHeaderItem(column, header)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.comparison = QLabel(objectName="versionsComparison", wordWrap=True)
        self.activate_button = QPushButton("Activate", objectName="versionsActivate")
        self.rollback_button = QPushButton("Roll Back", objectName="versionsRollback")
        self.import_button = QPushButton("Import Model…", objectName="versionsImport")
        self.export_button = QPushButton("Export Model…", objectName="versionsExport")
        buttons = QGridLayout()
        for n, button in enumerate((self.activate_button, self.rollback_button, self.import_button,
                                    self.export_button)):
            buttons.addWidget(button, n // 2, n % 2)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.comparison)
        layout.addLayout(buttons)
        self.activate_button.clicked.connect(lambda: self._emit_selected(self.activate_requested))
        self.export_button.clicked.connect(lambda: self._emit_selected(self.export_requested))
        self.rollback_button.clicked.connect(self.rollback_requested)
        self.import_button.clicked.connect(self.import_requested)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self._versions: list[ModelVersion] = []
        self._active: str | None = None

    def set_versions(self, versions: list[ModelVersion], active_id: str | None, can_rollback: bool) -> None:
        self._versions, self._active = list(reversed(versions)), active_id  # newest first
        self.hint.setVisible(active_id is None)
        self.table.setRowCount(len(self._versions))
        for row, version in enumerate(self._versions):
            for column, text in enumerate(_row(version, version.version_id == active_id)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, version.version_id)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.rollback_button.setEnabled(can_rollback)
        if self._versions:
            self.table.selectRow(0)
        self._on_selection()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self._versions[rows[0].row()].version_id if rows else None

    def select(self, version_id: str) -> None:
        for row, version in enumerate(self._versions):
            if version.version_id == version_id:
                self.table.selectRow(row)

    def _emit_selected(self, signal) -> None:
        version_id = self.selected_id()
        if version_id is not None:
            signal.emit(version_id)

    def _on_selection(self) -> None:
        version_id = self.selected_id()
        version = next((v for v in self._versions if v.version_id == version_id), None)
        self.activate_button.setEnabled(version is not None and version_id != self._active)
        self.export_button.setEnabled(version is not None)
        self.comparison.setText(describe_comparison(version) if version is not None else "")


def _row(version: ModelVersion, active: bool) -> tuple[str, ...]:
    metrics = version.metrics or {}
    data = version.data or {}
    seen = f"{data['cases']} cases, {data['slices']} slices" if "cases" in data and "slices" in data else "—"
    return ("●" if active else "", version.label, version.origin, version.created.replace("T", " ")[:16], seen,
            _num(metrics.get("dice")), _num(metrics.get("miou")), _delta(version))


def _num(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def _delta(version: ModelVersion) -> str:
    comparison = version.comparison or {}
    new, old = comparison.get("candidate"), comparison.get("baseline")
    if not new or not old:
        return "—"
    return f"{new['dice'] - old['dice']:+.4f}"


def describe_comparison(version: ModelVersion) -> str:
    """What the user reads before activating a new version."""
    comparison = version.comparison
    if version.origin != "trained":
        return f"{version.label}: {version.origin} model; metrics as recorded in its file."
    if not comparison:
        return ("Nothing was kept aside to check this version (one case only), so it has no scores; "
                "add a second case to measure it.")
    new, old = comparison["candidate"], comparison.get("baseline")
    head = f"On the same {comparison['slices']} check slice(s) of {len(comparison['cases'])} case(s): "
    if old is None:
        return head + f"match {new['dice']:.3f}, overlap {new['miou']:.3f} (no model was active to compare with)."
    verdict = "better" if new["dice"] > old["dice"] else "not better"
    return head + (f"match {new['dice']:.3f} vs {old['dice']:.3f}, overlap {new['miou']:.3f} vs {old['miou']:.3f} "
                   f"for the model active then ({verdict}).")
