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
* Every rule carries ``properties["security-severity"]`` and the ``security``
  tag, which GitHub code scanning needs to rank alerts critical / high / medium /
  low (see ``SECURITY_SEVERITY``): security rules (AV3xx) score highest, the
  learning and cost notes (AV4xx) lowest, every other family in between, each
  by the rule's severity in the profile.
* Live and database results name the ARN or database object as a logical
  location; when a Terraform configuration was given (``--live PATH``), a live
  result also points at the Terraform block of its cluster, so code scanning
  can show it (GitHub displays only results with a physical location).
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
from validator.baseline import fingerprint
from validator.findings import Finding, Report, suppression_kind
from validator.model import Location
from validator.reporters.common import display_path, ordered, sort_key
from validator.rules import Rule, Severity, Status, all_rules

SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.html"
FINGERPRINT_KEY = "avFingerprint/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
KINDS = {Status.FAIL: "fail", Status.UNRESOLVED: "open", Status.PASS: "pass"}
# security-severity by rule family (the id's hundreds digit) and severity in the profile.
# GitHub's bands: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
SECURITY_SEVERITY: dict[str, dict[Severity, str]] = {
    # AV3xx security: public reachability, plaintext secrets, open ingress.
    "security": {Severity.ERROR: "8.5", Severity.WARNING: "6.5", Severity.INFO: "3.5"},
    # AV4xx learning and cost notes: never above low.
    "note": {Severity.ERROR: "3.0", Severity.WARNING: "2.0", Severity.INFO: "1.0"},
    # AV0xx, AV1xx, AV2xx, AV5xx, AV6xx: correctness of the deployment (it fails or drifts).
    "other": {Severity.ERROR: "6.0", Severity.WARNING: "4.0", Severity.INFO: "2.0"},
}
FAMILY_TAGS = {
    "0": "suppressions",
    "1": "serverless-v2",
    "2": "bedrock-knowledge-base",
    "3": "security",
    "4": "cost",
    "5": "live",
    "6": "database",
}
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


def _family(rule_id: str) -> str:
    """The hundreds digit of a rule id: "AV301" -> "3"."""
    digits = rule_id[2:]
    return digits[0] if len(digits) == 3 and digits.isdigit() else ""


def security_severity(rule: Rule, profile: str) -> str:
    """The GitHub security-severity score of a rule, as a string ("8.5")."""
    family = _family(rule.id)
    table = SECURITY_SEVERITY["security" if family == "3" else "note" if family == "4" else "other"]
    return table[rule.severity_for(profile)]


def _tags(rule: Rule) -> list[str]:
    tags = {"security", *rule.sources}
    family = FAMILY_TAGS.get(_family(rule.id))
    if family:
        tags.add(family)
    return sorted(tags)


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
        "properties": {
            "tags": _tags(rule),
            "severity": rule.severity_for(profile).value,
            "security-severity": security_severity(rule, profile),
        },
    }


class _Places:
    """Where live results sit in the Terraform they were compared with (``--live PATH``)."""

    def __init__(self, report: Report) -> None:
        self.file_root: dict[str, str] = {}  # live root -> the Terraform root its file locations use
        self.block: dict[tuple[str, str], Location] = {}  # (live root, ARN or address) -> Terraform block
        for dep in report.deployments:
            base = dep.declared
            if dep.kind != "live" or base is None:
                continue
            self.file_root[dep.root] = base.root
            by_ident = {c.identifier.value: c for c in base.clusters if c.identifier.known}
            for cluster in dep.clusters:
                ident = cluster.identifier.get()
                tf = by_ident.get(ident) if isinstance(ident, str) else None
                if tf is None or not tf.origin.file:
                    continue
                for name in (cluster.arn, cluster.address):
                    if name:
                        self.block[(dep.root, name)] = tf.origin

    def physical(self, f: Finding) -> dict[str, Any] | None:
        loc = f.result.location
        root = self.file_root.get(f.root, f.root)
        if not loc.file:
            block = self.block.get((f.root, loc.arn or "")) or self.block.get((f.root, f.result.resource))
            if block is None:
                return None
            loc = block
        physical: dict[str, Any] = {"artifactLocation": _artifact(display_path(root, loc.file or ""))}
        if loc.line and loc.line >= 1:
            physical["region"] = {"startLine": int(loc.line)}
        return physical


def _location(f: Finding, places: _Places) -> dict[str, Any] | None:
    loc = f.result.location
    out: dict[str, Any] = {}
    physical = places.physical(f)
    if physical:
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


def result(f: Finding, index: dict[str, int], places: _Places | None = None) -> dict[str, Any]:
    """The SARIF result of one finding."""
    kind = KINDS[f.status]
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "kind": kind,
        "level": LEVELS[f.severity] if kind == "fail" else "none",
        "message": {"text": f.result.message},
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    location = _location(f, places or _Places(Report()))
    if location:
        out["locations"] = [location]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f)}
    if f.suppressed_by:
        out["suppressions"] = [_suppression(f)]
    out["properties"] = {"resource": f.result.resource, "root": f.root, "severity": f.severity.value}
    if f.account:
        out["properties"]["account"] = f.account
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
    places = _Places(report)
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
        "results": [result(f, index, places) for f in findings],
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
