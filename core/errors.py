"""Errors raised by the scoring core.

Every error derives from :class:`RenownCoreError`, itself a :class:`ValueError`, so callers can catch
either the precise class or everything the core raises about bad input in one ``except``.
"""

from __future__ import annotations

__all__ = [
    "InputFormatError",
    "InvalidEngagementsError",
    "InvalidParametersError",
    "RenownCoreError",
    "UnknownVersionError",
]


class RenownCoreError(ValueError):
    """Base class of every error raised by ``core``."""


class InvalidEngagementsError(RenownCoreError):
    """Engagement or account arrays are inconsistent (lengths, ranges, negative or non-finite values)."""


class InvalidParametersError(RenownCoreError):
    """An algorithm parameter or a function argument is out of its documented range."""


class UnknownVersionError(RenownCoreError):
    """The algorithm version name is not one of :func:`core.versions.list_versions`."""


class InputFormatError(RenownCoreError):
    """A text input (edge list, accounts CSV) is malformed.

    Attributes
    ----------
    path : str or None
        The file that holds the bad line.
    line : int or None
        1-based line number of the bad line.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = ""
        if path is not None and line is not None:
            where = f"{path}:{line}: "
        elif path is not None:
            where = f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)
