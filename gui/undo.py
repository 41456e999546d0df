"""Unlimited undo/redo per slice: one QUndoStack per slice, each command wraps one core MaskChange.

The edit has already been applied by core when the command is pushed, so the first redo() that
QUndoStack.push calls is skipped. A QUndoGroup makes the current slice's stack the active one, so
Ctrl+Z always acts on the slice on screen. Commands pushed with the same `merge_key` right after each
other on one slice become one step (a prediction and its revision by the whole-run clean-up).
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from core.annotation.edits import MaskChange, merge_changes
from core.annotation.slice_annotation import SliceAnnotation

MERGING_ID = 1


class MaskChangeCommand(QUndoCommand):
    def __init__(self, annotation: SliceAnnotation, change: MaskChange, text: str, merge_key=None) -> None:
        super().__init__(text)
        self.annotation = annotation
        self.change = change
        self.merge_key = merge_key
        self._applied = True  # core applied it before the push

    def id(self) -> int:  # noqa: A003 (Qt)
        return MERGING_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:  # noqa: N802 (Qt)
        if other.merge_key != self.merge_key or other.annotation is not self.annotation:
            return False
        annotation = self.annotation
        self.change = merge_changes(self.change, other.change, annotation.mask, annotation.edited)
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.annotation.redo_change(self.change)

    def undo(self) -> None:
        self.annotation.undo_change(self.change)


class SliceUndoStacks:
    """The per-slice stacks of one open case, grouped so the active one follows the current slice."""

    def __init__(self, group: QUndoGroup) -> None:
        self.group = group
        self._stacks: dict[int, QUndoStack] = {}

    def stack(self, index: int) -> QUndoStack:
        if index not in self._stacks:
            stack = QUndoStack(self.group)
            self.group.addStack(stack)
            self._stacks[index] = stack
        return self._stacks[index]

    def activate(self, index: int) -> None:
        self.group.setActiveStack(self.stack(index))

    def push(self, index: int, annotation: SliceAnnotation, change: MaskChange | None, text: str,
             merge_key=None) -> bool:
        """Record an applied change as one undo step; False when the edit changed nothing."""
        if change is None:
            return False
        self.stack(index).push(MaskChangeCommand(annotation, change, text, merge_key))
        return True

    def clear(self) -> None:
        for stack in self._stacks.values():
            self.group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()
