"""SARIF 2.1.0 for code scanning (GitHub code scanning, Azure DevOps, IDE viewers).

Choices, with the SARIF 2.1.0 section that settles them:

* ``tool.driver.rules`` lists every rule of the catalogue, once, in id order:
  ``ruleIndex`` then means the same rule in every report, and viewers can show
  the help of a rule even when this run found nothing for it.
* A failure is ``kind: "fail"`` with ``level`` error, warning or note (info).
  An unresolved check is ``kind: "open"``, which §3.27.9 defines as "the rule
  was evaluated, and the tool concluded that there was insufficient information
  to decide whether a problem exists" (``review`` means a human must judge a
  result the tool did reach). For every kind other than ``fail``, §3.27.10
  requires ``level: "none"``. Passed checks (``--show-passed``) are
  ``kind: "pass"``.
* Suppressed results stay in the log with ``suppressions`` (§3.35):
  ``inSource`` for inline comments, ``external`` for baselines and configuration.
* File locations are relative to ``%SRCROOT%``, the current directory, as
  ``root/file``; live findings carry the ARN as a logical location.
* ``partialFingerprints["avFingerprint/v1"]`` is the baseline fingerprint: the
  rule, the resource, the file and the message without numbers, not the line.
* Input errors and refused AWS calls are ``toolExecutionNotifications`` of the
  invocation, whose ``executionSuccessful`` is then false.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from validator import __version__
from validator.engine import Finding, Report, suppression_kind
from validator.reporters.common import display_path, ordered, sort_key
from validator.rules import Rule, Severity, Status, all_rules

SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.html"
FINGERPRINT_KEY = "avFingerprint/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
KINDS = {Status.FAIL: "fail", Status.UNRESOLVED: "open", Status.PASS: "pass"}
_WHERE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def _uri(path: str) -> tuple[str, str | None]:
    """A URI for a file path and its base id: relative ones resolve against %SRCROOT%."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri(), None
    return quote(p.as_posix(), safe="/-._~"), SRCROOT


def _artifact(path: str) -> dict[str, Any]:
    uri, base = _uri(path)
    out: dict[str, Any] = {"uri": uri}
    if base:
        out["uriBaseId"] = base
    return out


def _markdown_help(rule: Rule) -> str:
    parts = [f"**{rule.title}**", "", rule.rationale]
    if rule.risk:
        parts += ["", f"Risk: {rule.risk}"]
    parts += ["", "Fix:", "", "```hcl", rule.fix, "```", "", f"[AWS documentation]({rule.doc_url})"]
    return "\n".join(parts)


def _text_help(rule: Rule) -> str:
    parts = [rule.rationale]
    if rule.risk:
        parts.append(f"Risk: {rule.risk}")
    parts += ["Fix:", rule.fix, f"Documentation: {rule.doc_url}"]
    return "\n\n".join(parts)


def rule_descriptor(rule: Rule, profile: str) -> dict[str, Any]:
    """The reportingDescriptor of one rule (severity as the profile sets it)."""
    return {
        "id": rule.id,
        "name": type(rule).__name__,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "helpUri": rule.doc_url,
        "help": {"text": _text_help(rule), "markdown": _markdown_help(rule)},
        "defaultConfiguration": {"level": LEVELS[rule.severity_for(profile)]},
        "properties": {"tags": sorted(rule.sources), "severity": rule.severity_for(profile).value},
    }


def _location(f: Finding) -> dict[str, Any] | None:
    loc = f.result.location
    out: dict[str, Any] = {}
    if loc.file:
        physical: dict[str, Any] = {"artifactLocation": _artifact(display_path(f.source, loc.file))}
        if loc.line and loc.line >= 1:
            physical["region"] = {"startLine": int(loc.line)}
        out["physicalLocation"] = physical
    logical = []
    if loc.arn:
        logical.append({"fullyQualifiedName": loc.arn, "kind": "resource"})
    if f.result.resource and f.result.resource != loc.arn:
        logical.append({"fullyQualifiedName": f.result.resource, "kind": "resource"})
    if logical:
        out["logicalLocations"] = logical
    if loc.api_call:
        out["message"] = {"text": f"reported by {loc.api_call}"}
    return out or None


def _suppression(f: Finding) -> dict[str, Any]:
    by = f.suppressed_by or ""
    kind = suppression_kind(by)
    justification = by.split("): ", 1)[1] if kind == "inline" and "): " in by else by
    return {"kind": "inSource" if kind == "inline" else "external", "justification": justification}


def result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    """The SARIF result of one finding."""
    from validator.baseline import fingerprint

    kind = KINDS[f.status]
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "kind": kind,
        "level": LEVELS[f.severity] if kind == "fail" else "none",
        "message": {"text": f.result.message},
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    location = _location(f)
    if location:
        out["locations"] = [location]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f)}
    if f.suppressed_by:
        out["suppressions"] = [_suppression(f)]
    out["properties"] = {"resource": f.result.resource, "root": f.source, "severity": f.severity.value}
    return out


def _notification(where: str, text: str) -> dict[str, Any]:
    note: dict[str, Any] = {"level": "error", "message": {"text": text}}
    m = _WHERE_LINE.match(where)
    path, line = (m["file"], int(m["line"])) if m else (where, None)
    if path and not path.startswith("arn:") and "://" not in path:
        physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
        if line:
            physical["region"] = {"startLine": line}
        note["locations"] = [{"physicalLocation": physical}]
    return note


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    rules = all_rules()
    index = {rule.id: n for n, rule in enumerate(rules)}
    findings = ordered(report, show_passed) + sorted(
        (f for f in report.suppressed() if f.status is not Status.PASS or show_passed), key=sort_key
    )
    notifications = [_notification(e.where, str(e)) for e in report.errors]
    notifications += [
        {"level": "error", "message": {"text": f"AWS refused {op}: the audit needs this permission"}}
        for op in report.denied
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not (report.errors or report.denied)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "aurora-validate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule, report.profile) for rule in rules],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "results": [result(f, index) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "profile": report.profile,
            "roots": list(report.roots),
            "summary": report.summary(),
            "suppressedBy": report.suppression_counts(),
        },
    }
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
