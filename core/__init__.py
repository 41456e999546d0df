"""Mandible Studio core: everything that works without a screen. Never imports PySide6 or gui."""
