"""Input errors: one line each, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass

from validator.redact import excerpt


@dataclass
class InputError(Exception):
    """A problem with what the user gave us, reported as ``where: message``."""

    where: str  # "path", "path:line" or a resource/ARN
    message: str
    kind: str = "error"  # e.g. "parse error"

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.message}"


class UsageError(Exception):
    """Bad command-line use (exit 2)."""


class AccessDenied(Exception):
    """AWS refused a call the audit needs (exit 3)."""

    label = "access denied"  # how the one-line error names it

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation
        self.message = message


def internal_error_line(exc: BaseException) -> str:
    """``internal error: ValueError: <short, redacted message>; run with --debug for the traceback``."""
    text = str(exc).strip()
    message = excerpt(text.splitlines()[0], 160) if text else ""
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"internal error: {detail}; run with --debug for the traceback"
