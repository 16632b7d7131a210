"""Errors that services raise, besides Django's ValidationError and PermissionDenied."""


class Conflict(Exception):
    """The object is not in a state that allows this (already decided, one already pending…)."""

    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.code = code
