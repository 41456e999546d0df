"""Run in a subprocess by test_retrain_dialog_fits.py (the screen is fixed when Qt starts): open the Retrain dialog
with its Advanced section, on the screen the environment describes, and print one JSON object saying where its
parts lie and whether the last setting can be scrolled to."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer


def rect(widget) -> list[int] | None:
    if not widget.isVisible():
        return None
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def describe(dialog) -> dict:
    from PySide6.QtWidgets import QDialogButtonBox

    screen = dialog.screen().availableGeometry()
    scroll = dialog.body
    last = dialog.advanced.cpu_only
    scroll.ensureWidgetVisible(last)
    shown = last.mapTo(scroll.viewport(), last.rect().bottomLeft()).y() <= scroll.viewport().height()
    return {"screen": [screen.x(), screen.y(), screen.width(), screen.height()],
            "dialog": rect(dialog), "train": rect(dialog.train_button),
            "cancel": rect(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)),
            "last setting shown after scrolling": bool(shown and last.isVisible())}


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from gui.app import make_application

    app = make_application([])
    from core.model.model_file import starter_model
    from core.training.workspace_data import TrainingInventory, TrainingSlice
    from gui.ai.retrain_dialog import RetrainDialog

    slices = [TrainingSlice(case, case, Path("/ct"), None, i, Path(f"/{i}.json"), None)
              for case in ("pt_1", "pt_2", "pt_3") for i in range(40)]
    dialog = RetrainDialog(TrainingInventory(slices, {"pt_4": "its CT is no longer at /x"}), starter_model())
    dialog.show()
    dialog.advanced_toggle.click()

    def report() -> None:
        app.processEvents()
        print(json.dumps(describe(dialog)))
        dialog.timer.stop()
        app.exit(0)

    QTimer.singleShot(200, report)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
