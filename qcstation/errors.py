"""The one exception tree of qcstation; every error a user can cause is one of these."""

from __future__ import annotations


class QCError(Exception):
    """Base of every qcstation error; its message is one plain sentence for the user."""


class SpecError(QCError):
    """A buyer spec file is missing, unreadable or invalid."""


class CalibrationError(QCError):
    """A calibration cannot be computed, read or used."""


class ImageError(QCError):
    """An image cannot be read or cannot be judged (the inspection verdict is `error`)."""


class ModelError(QCError):
    """The defect model is missing, corrupt or fails to run."""


class DataError(QCError):
    """A data folder (synthetic set, ground truth) is missing or malformed."""


class OutputError(QCError):
    """An output (the overlay folder, standard output) cannot be written.

    `closed`: standard output itself failed mid-run, so the results are incomplete (exit 1,
    not the 2 of a bad argument).
    """

    def __init__(self, message: str, closed: bool = False):
        super().__init__(message)
        self.closed = closed
