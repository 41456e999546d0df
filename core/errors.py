"""Typed errors for everything the user can get wrong. Each message says what happened and what to do."""


class MandibleStudioError(Exception):
    """Base for errors that are shown to the user as a message, never as a traceback."""


class InputError(MandibleStudioError):
    """A path or file the user gave cannot be used (missing, wrong kind, unreadable)."""


class DicomSeriesError(InputError):
    """A DICOM folder holds no usable series, or a series is inconsistent."""


class LabelFileError(MandibleStudioError):
    """A Labelme JSON file cannot be read or written."""


class ModelFileError(MandibleStudioError):
    """A model file is missing, foreign, tampered with or incompatible."""


class TrainingError(MandibleStudioError):
    """Training cannot start or continue (no data, no weights, out of memory...)."""


class ExportError(MandibleStudioError):
    """A mesh or volume export cannot be made or written."""


class Cancelled(MandibleStudioError):
    """A long job was cancelled by the user."""


class CalibrationError(MandibleStudioError):
    """A grey-value calibration cannot be made or read (air not darker than soft tissue, a damaged record)."""
