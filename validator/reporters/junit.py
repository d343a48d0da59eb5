"""JUnit XML for CI test reports (GitLab ``artifacts:reports:junit``, Jenkins, Azure).

One ``testsuite`` per scanned root and one ``testcase`` per rule and resource,
passes included, so a gate shows what was checked as well as what failed:

* a failure (of any severity) is a ``<failure>`` whose ``type`` is the severity;
* an unresolved check is ``<skipped>`` with the reason the value is unknown;
* a suppressed finding is ``<skipped>`` naming what suppressed it;
* input errors and refused AWS calls are ``<error>`` test cases in a suite of their own.

``classname`` is the rule id, ``name`` the resource address; ``file`` and
``line`` point at the first location. Suite and run properties give the profile
and how many findings were suppressed, and by what.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from validator import __version__
from validator.findings import Finding, Report
from validator.reporters.common import display_path, sort_key
from validator.rules import Status

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(f: Finding) -> str:
    where = f.result.location
    shown = display_path(f.root, where.file) if where.file else str(where)
    return f"{f.rule_id} {f.severity.value}: {f.result.message} [{f.result.resource}] at {shown}"


def _case(suite: ET.Element, group: list[Finding]) -> str:
    """Add one testcase for the findings of one rule on one resource; returns its outcome."""
    first = group[0]
    case = ET.SubElement(suite, "testcase", classname=first.rule_id, name=first.result.resource or first.root)
    loc = next((f.result.location for f in group if f.result.location.file), first.result.location)
    if loc.file:
        case.set("file", display_path(first.root, loc.file))
        if loc.line:
            case.set("line", str(loc.line))
    active = [f for f in group if f.suppressed_by is None]
    fails = [f for f in active if f.status is Status.FAIL]
    unresolved = [f for f in active if f.status is Status.UNRESOLVED]
    suppressed = [f for f in group if f.suppressed_by is not None and f.status is not Status.PASS]
    if fails:
        worst = max(fails, key=lambda f: f.severity.rank)
        failure = ET.SubElement(case, "failure", message=worst.result.message, type=worst.severity.value)
        failure.text = "\n".join(_text(f) for f in fails) + f"\n{first.rule.title}\nFix:\n{first.rule.fix}\n"
        return "failure"
    if unresolved:
        ET.SubElement(case, "skipped", message="unresolved: " + "; ".join(f.result.message for f in unresolved))
        return "skipped"
    if suppressed:
        by = "; ".join(f.suppressed_by or "" for f in suppressed)
        ET.SubElement(case, "skipped", message=f"suppressed ({by}): {suppressed[0].result.message}")
        return "skipped"
    out = ET.SubElement(case, "system-out")
    out.text = "\n".join(f.result.message for f in group)
    return "pass"


def _properties(parent: ET.Element, report: Report) -> None:
    props = ET.SubElement(parent, "properties")
    ET.SubElement(props, "property", name="profile", value=report.profile)
    counts = report.suppression_counts()
    ET.SubElement(props, "property", name="suppressed", value=str(sum(counts.values())))
    for kind, n in counts.items():
        ET.SubElement(props, "property", name=f"suppressed.{kind}", value=str(n))


def _clean(root: ET.Element) -> None:
    """Replace characters XML 1.0 cannot hold (control characters from odd input) in place."""
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)
        for key, value in element.attrib.items():
            element.set(key, _NOT_XML.sub("\ufffd", value))


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    root = ET.Element("testsuites", name="aurora-validate", version=__version__)
    _properties(root, report)
    groups: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in sorted(report.findings, key=sort_key):
        groups[f.root][(f.rule_id, f.result.resource)].append(f)
    totals = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    for source in sorted(groups):
        suite = ET.SubElement(root, "testsuite", name=source)
        _properties(suite, report)
        counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
        for key in sorted(groups[source]):
            outcome = _case(suite, groups[source][key])
            counts["tests"] += 1
            if outcome == "failure":
                counts["failures"] += 1
            elif outcome == "skipped":
                counts["skipped"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    problems = [(e.where, str(e), e.kind) for e in report.errors] + [
        (op, f"AWS refused {op}: the audit needs this permission", "access denied") for op in report.denied
    ]
    if problems:
        suite = ET.SubElement(root, "testsuite", name="input")
        for where, text, kind in problems:
            case = ET.SubElement(suite, "testcase", classname="input", name=where)
            error = ET.SubElement(case, "error", message=text, type=kind)
            error.text = text
        suite.set("tests", str(len(problems)))
        suite.set("failures", "0")
        suite.set("skipped", "0")
        suite.set("errors", str(len(problems)))
        totals["tests"] += len(problems)
        totals["errors"] += len(problems)
    for k, v in totals.items():
        root.set(k, str(v))
    _clean(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
