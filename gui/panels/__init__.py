"""Side panels of the main window: cases and slices on the left, tools and overlay on the right."""
