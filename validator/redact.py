"""Sensitive values never reach any output.

Sources remember the values they know to be sensitive: variables declared
``sensitive = true`` or named like a password, password arguments, values a
plan marks in ``after_sensitive``/``before_sensitive``. Before a report is
rendered (in every format, and before a baseline is written or fingerprinted)
and before any error line is printed, every remembered value is replaced by
``(sensitive)``, whatever code path produced the text.

    redact.remember("hunter2-prod")
    redact.scrub("'hunter2-prod' is not a bool")  # "'(sensitive)' is not a bool"
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from validator.findings import Finding, Report
    from validator.model import Deployment

MASK = "(sensitive)"
# Shorter values would mask ordinary words; no password is that short.
MIN_LENGTH = 4
# Values remembered in one run, and the longest one remembered whole.
MAX_VALUES = 10_000
MAX_LENGTH = 4096

# Names of variables and arguments that hold a secret whatever they are declared as.
SECRET_NAME = re.compile(r"(?:^|_)(?:password|passwd|passphrase|secret_string|private_key|token)(?:$|_)",
                         re.IGNORECASE)

_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def forget() -> None:
    """Start a run with nothing remembered."""
    global _pattern
    _values.clear()
    _pattern = None


def remember(value: Any) -> None:
    """Remember every string in ``value`` (nested lists and maps too) as sensitive."""
    global _pattern
    stack, seen = [value], 0
    while stack and seen < MAX_VALUES:
        v = stack.pop()
        seen += 1
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set):
            stack.extend(v)
        elif isinstance(v, str) and len(v) >= MIN_LENGTH and len(_values) < MAX_VALUES:
            text = str.__str__(v)
            if text not in _values:
                _values.add(text[:MAX_LENGTH])
                _pattern = None


def remembered() -> tuple[str, ...]:
    """Every value remembered so far (a worker process sends them to the parent)."""
    return tuple(sorted(_values))


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def scrub(text: str) -> str:
    """``text`` with every remembered sensitive value replaced by ``(sensitive)``."""
    global _pattern
    if not _values or not text:
        return text
    if _pattern is None:
        ordered = sorted(_values, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))
    return _pattern.sub(MASK, text)


def excerpt(text: str, limit: int = 40) -> str:
    """A short, scrubbed excerpt of ``text`` for an error message."""
    text = scrub(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scrub_optional(text: str | None) -> str | None:
    return None if text is None else scrub(text)


def _scrub_finding(f: Finding) -> Finding:
    """The finding with its texts scrubbed; the same object when none holds a sensitive value."""
    r, loc = f.result, f.result.location
    message, resource, root = scrub(r.message), scrub(r.resource), scrub(f.root)
    file, arn, via = _scrub_optional(loc.file), _scrub_optional(loc.arn), _scrub_optional(loc.via)
    if (message, resource, root, file, arn, via) == (r.message, r.resource, f.root, loc.file, loc.arn, loc.via):
        return f
    location = replace(loc, file=file, arn=arn, via=via)
    return replace(f, result=replace(r, message=message, resource=resource, location=location), root=root)


def sensitive_places(deployment: Deployment) -> tuple[set[tuple[str, int]], set[str]]:
    """The source lines that hold a cluster's master password, (display path, line), and the passwords.

    The text report shows source lines; it hides these ones and any line holding a password.
    """
    from validator.findings import display_path

    lines: set[tuple[str, int]] = set()
    texts: set[str] = set()
    for cluster in deployment.clusters:
        value = cluster.master_password
        origin = value.origin
        if origin.file and origin.line:
            lines.add((display_path(deployment.root, origin.file), origin.line))
        raw = value.raw
        if isinstance(raw, str) and len(raw) >= 3:
            texts.add(raw)
    return lines, texts


def scrub_report(report: Report) -> None:
    """Rewrite a report's messages, resources, locations and errors without sensitive values."""
    if not _values:
        return
    report.findings = [_scrub_finding(f) for f in report.findings]
    report.errors = [replace(e, where=scrub(e.where), message=scrub(e.message)) for e in report.errors]
