"""Text for people: one line per finding, most severe first within each file."""

from __future__ import annotations

from validator.engine import Finding, Report
from validator.reporters.common import display_path, ordered
from validator.rules import Status

_COLORS = {"error": "31", "warning": "33", "info": "36", "unresolved": "35", "pass": "32"}


def _paint(text: str, key: str, color: bool) -> str:
    return f"\033[{_COLORS[key]}m{text}\033[0m" if color else text


def _where(f: Finding) -> str:
    loc = f.result.location
    if loc.file:
        path = display_path(f.source, loc.file)
        return f"{path}:{loc.line}" if loc.line else path
    if loc.api_call:
        return f"{loc.arn or f.source} ({loc.api_call})"
    return f.source


def line(f: Finding, color: bool = False) -> str:
    if f.status is Status.FAIL:
        label = f.severity.value
    elif f.status is Status.UNRESOLVED:
        label = "unresolved"
    else:
        label = "pass"
    return (
        f"{_where(f)}: {_paint(label, label, color)} {f.rule_id} {f.result.message} [{f.result.resource}]"
    )


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    lines = [line(f, color) for f in ordered(report, show_passed)]
    lines += [f"AWS refused {op}: the audit needs this permission" for op in report.denied]
    counts = report.summary()
    roots = len(report.roots)
    tail = (
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s), "
        f"{counts['unresolved']} unresolved, {counts['passed']} passed"
    )
    if counts["suppressed"]:
        by_what = ", ".join(f"{n} {k}" for k, n in report.suppression_counts().items())
        tail += f", {counts['suppressed']} suppressed ({by_what})"
    noun = "root module" if report.roots and not report.roots[0].startswith("arn:") else "target"
    lines.append(f"{tail} in {roots} {noun}{'' if roots == 1 else 's'} (profile {report.profile})")
    return "\n".join(lines) + "\n"
