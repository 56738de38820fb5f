"""The error a user can cause: bad files, unknown names, missing models.

The CLI prints ``str(err)`` on one line and exits 2; the UIs show it as a message. Anything
else that escapes is a bug.
"""

from __future__ import annotations


class LorasuiteError(Exception):
    """A problem the user can fix; the message says what and how."""


class DataError(LorasuiteError):
    """A training or input file is unusable (names the file, the row and the fix)."""

    def __init__(self, path: object, message: str, row: int | None = None, fix: str = "") -> None:
        where = f"{path}" + (f", row {row}" if row is not None else "")
        text = f"{where}: {message}" + (f" ({fix})" if fix else "")
        super().__init__(text)
        self.path, self.row = path, row


class ModelNotFoundError(LorasuiteError):
    """A base model could not be resolved or loaded."""


class AdapterNotFoundError(LorasuiteError):
    """No adapter of that app and name in the registry."""
