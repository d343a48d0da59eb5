"""What every reporter needs: sorted findings, display paths, plain dicts."""

from __future__ import annotations

from typing import Any

from validator.findings import Finding, Report, display_path
from validator.rules import Status

__all__ = ["STATUS_ORDER", "display_path", "error_dict", "finding_dict", "location_dict", "ordered", "sort_key"]

STATUS_ORDER = {Status.FAIL: 0, Status.UNRESOLVED: 1, Status.PASS: 2}


def sort_key(f: Finding) -> tuple[Any, ...]:
    loc = f.result.location
    return (f.root, loc.file or loc.arn or "", loc.line or 0, f.rule_id, f.result.resource, f.result.message)


def ordered(report: Report, show_passed: bool) -> list[Finding]:
    return sorted(report.active(include_pass=show_passed), key=sort_key)


def location_dict(f: Finding) -> dict[str, Any]:
    loc = f.result.location
    out = loc.as_dict()
    if not out and loc.via:
        out["via"] = loc.via  # a plan read without its configuration: the resource address
    return out


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule_id": f.rule_id,
        "title": f.rule.title,
        "severity": f.severity.value,
        "status": f.status.value,
        "message": f.result.message,
        "resource": f.result.resource,
        "location": location_dict(f),
        "root": f.root,
        "doc_url": f.rule.doc_url,
    }
    if f.account:
        out["account"] = f.account
    if f.suppressed_by:
        out["suppressed_by"] = f.suppressed_by
    return out


def error_dict(error: Any) -> dict[str, str]:
    return {"where": error.where, "kind": error.kind, "message": error.message}
