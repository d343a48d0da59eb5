"""Findings and reports: rule results placed in the context of a run.

A ``Finding`` is one rule result with the severity of the run's profile, the
root it came from and what (if anything) suppressed it; a ``Report`` is every
finding, input error and deployment of one run. Sources, the engine, the
suppression and baseline filters and every reporter share these types, so
this module imports nothing of the package but the rules' base (and the model
and errors for types only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from validator.profiles import PROFILES
from validator.rules.base import Result, Rule, Severity, Status

if TYPE_CHECKING:
    from validator.errors import InputError
    from validator.model import Deployment

__all__ = ["PROFILES", "Finding", "Report", "display_path", "suppression_kind"]

@dataclass(frozen=True, slots=True)
class Finding:
    """A rule result placed in context: severity for the profile, suppression."""

    rule: Rule
    severity: Severity
    result: Result
    root: str  # the deployment root the result came from (a directory, plan file, ARN or database)
    suppressed_by: str | None = None  # "inline: reason", "baseline", "config"
    account: str | None = None  # the AWS account of a live finding

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def rule_id(self) -> str:
        return self.rule.id


def suppression_kind(suppressed_by: str) -> str:
    """What suppressed a finding: "inline (main.tf:3): why" -> "inline", "baseline" -> "baseline"."""
    return re.split(r"[\s:(]", suppressed_by.strip(), maxsplit=1)[0] or "other"


def display_path(root: str, file: str) -> str:
    """A finding's file as seen from the current directory."""
    if not root or root == "." or "://" in root or root.startswith("arn:"):
        return file
    return f"{root.rstrip('/')}/{file}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    profile: str = "default"
    deployments: list[Deployment] = field(default_factory=list)
    # AWS operations refused during a live audit (exit 3), e.g. "rds:DescribeDBClusters".
    denied: list[str] = field(default_factory=list)
    # What ``roots`` are, for people ("root module", "database"); derived from them when empty.
    noun: str = ""
    # AWS operations that failed otherwise (errors, timeouts, unreadable answers; exit 3 too).
    failed_calls: list[str] = field(default_factory=list)
    # The AWS accounts a live audit covered (read, or reported as unread), in order.
    accounts: list[str] = field(default_factory=list)
    # Of deployments kept only in outline: the source lines holding a sensitive value, (display path,
    # line), and those values (``redact.sensitive_places``); the text report hides them.
    sensitive_lines: set[tuple[str, int]] = field(default_factory=set)
    sensitive_texts: set[str] = field(default_factory=set)

    def active(self, include_pass: bool = False) -> list[Finding]:
        """Findings that are not suppressed; passes only when asked."""
        return [
            f
            for f in self.findings
            if f.suppressed_by is None and (include_pass or f.status is not Status.PASS)
        ]

    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed_by is not None]

    def suppression_counts(self) -> dict[str, int]:
        """Suppressed findings by what suppressed them: {"baseline": 2, "inline": 1}."""
        counts: dict[str, int] = {}
        for f in self.suppressed():
            kind = suppression_kind(f.suppressed_by or "")
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def failures_at_or_above(self, level: Severity) -> list[Finding]:
        return [f for f in self.active() if f.status is Status.FAIL and f.severity.rank >= level.rank]

    def unresolved(self) -> list[Finding]:
        """Unresolved results that are not suppressed (``--fail-on-unresolved`` fails on these)."""
        return [f for f in self.active() if f.status is Status.UNRESOLVED]

    def summary(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0, "unresolved": 0, "passed": 0, "suppressed": 0}
        for f in self.findings:
            if f.suppressed_by is not None:
                counts["suppressed"] += 1
            elif f.status is Status.PASS:
                counts["passed"] += 1
            elif f.status is Status.UNRESOLVED:
                counts["unresolved"] += 1
            else:
                counts[f.severity.value] += 1
        counts["input_errors"] = len(self.errors)
        return counts
