"""The storage errors: each is a QCError whose message is one plain sentence."""

from __future__ import annotations

from qcstation.errors import QCError


class StoreError(QCError):
    """A storage request cannot be done (bad cursor, bad argument, database unreachable)."""


class StoreFull(StoreError):
    """The disk holding the data folder is full (or below its reserve): nothing was written."""


class NotFound(StoreError):
    """No such inspection, lot, user or token."""


class Conflict(StoreError):
    """The thing to add exists already (a user name, a token)."""
