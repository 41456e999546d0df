"""Edit ▸ Mark Slices Reviewed… (Shift+R): mark a range of slices N–M reviewed in one step, one entry of the
case-wide history. Every slice in the range becomes REVIEWED (training data): the model's predictions, interpolated
and propagated slices, edited slices, and empty ones (a person's verdict that there is no mandible there)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget


class MarkReviewedDialog(QDialog):
    def __init__(self, parent: QWidget, num_slices: int, first: int, last: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mark slices reviewed")
        self.setObjectName("markReviewedDialog")
        self.first = QSpinBox(minimum=1, maximum=num_slices, value=first + 1)
        self.last = QSpinBox(minimum=1, maximum=num_slices, value=last + 1)
        form = QFormLayout()
        form.addRow("From slice", self.first)
        form.addRow("To slice", self.last)
        note = QLabel("Every slice in the range becomes reviewed: training data once saved. Ctrl+Z takes it back "
                      "in one step.", wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Mark Reviewed", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def indexes(self) -> list[int]:
        """The chosen slices (0-based), whichever way round the two numbers were typed."""
        low, high = sorted((self.first.value(), self.last.value()))
        return list(range(low - 1, high))


def ask_range(parent: QWidget, num_slices: int, first: int, last: int) -> list[int] | None:
    """The slices to mark (0-based), or None when cancelled."""
    dialog = MarkReviewedDialog(parent, num_slices, first, last)
    return dialog.indexes() if dialog.exec() == QDialog.DialogCode.Accepted else None
