"""Inline suppressions: ``# aurora-validate:ignore=AV301 reason``.

A comment suppresses a rule's findings when it stands on the finding's line,
on the line above it, or on (or inside) the block of the finding's resource.
A reason is required; a suppression without one, or naming an unknown rule,
is reported by rule AV001 and suppresses nothing.
"""

from __future__ import annotations

from dataclasses import replace

from validator.findings import Finding, Report
from validator.model import Deployment
from validator.rules import Status, get_rule


def valid_suppression(rule_id: str, reason: str) -> bool:
    return bool(reason.strip()) and get_rule(rule_id) is not None and rule_id != "AV001"


def _match(finding: Finding, deployment: Deployment) -> str | None:
    loc = finding.result.location
    span = deployment.spans.get(finding.result.resource)
    candidates: list[tuple[str, int]] = []
    if loc.file and loc.line:
        candidates += [(loc.file, loc.line), (loc.file, loc.line - 1)]
    if span:
        file, start, end = span
        candidates += [(file, n) for n in range(start - 1, end + 1)]
    for key in candidates:
        for rule_id, reason in deployment.suppressions.get(key, ()):
            if rule_id == finding.rule_id and valid_suppression(rule_id, reason):
                return f"inline ({key[0]}:{key[1]}): {reason}"
    return None


def apply_suppressions(report: Report) -> None:
    """Mark the findings an inline comment suppresses (the baseline is ``validator.baseline``)."""
    by_root = {d.root: d for d in report.deployments}
    out = []
    for finding in report.findings:
        deployment = by_root.get(finding.root)
        # A passed check has nothing to hide: only failures and unresolved checks are suppressed.
        reason = None
        if deployment is not None and deployment.suppressions and finding.status is not Status.PASS:
            reason = _match(finding, deployment)
        out.append(replace(finding, suppressed_by=reason) if reason else finding)
    report.findings = out
