"""Helpers shared by the tests (imported by name; fixtures stay in the conftest.py files)."""
