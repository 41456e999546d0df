"""The AI in the app: background prediction, one-click retraining, model versions (issue 5).

`install_ai(main_window)` adds the AI menu, its toolbar buttons and shortcuts, the Training and Models
docks and the segmentation progress bar, and returns the AiController that owns them. (The controller
is imported on use, so the training process can import gui.ai.training_process without Qt widgets.)
"""
from __future__ import annotations


def install_ai(main_window):
    """Install once per window (MainWindow calls it); a second call returns the same controller."""
    from gui.ai.ai_controller import AiController

    existing = getattr(main_window, "ai", None)
    if isinstance(existing, AiController):
        return existing
    controller = AiController(main_window)
    main_window.ai = controller
    return controller


__all__ = ["install_ai"]
