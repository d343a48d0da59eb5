"""GitHub Actions workflow commands: findings become annotations on the pull request.

    ::error file=terraform/main.tf,line=12,title=AV106::iam_database_authentication_enabled is false [...]

Failures map to ``error``, ``warning`` or ``notice`` (info) by severity;
unresolved checks are notices titled "AV107 unresolved"; input errors are errors.
Data is escaped as the workflow-command rules require (``%``, CR, LF) and
property values also escape ``:`` and ``,``. A closing plain line gives the
summary, with how many findings were suppressed and by what.
"""

from __future__ import annotations

import re

from validator.findings import Finding, Report
from validator.reporters.common import display_path, ordered
from validator.reporters.text import render as render_text
from validator.rules import Severity, Status

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_WHERE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str | int | None) -> str:
    """One workflow command line: ``::name k=v,k=v::message``."""
    given = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, ""))
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def annotation(f: Finding) -> str | None:
    """The workflow command for one finding; None for a passed check."""
    if f.status is Status.PASS:
        return None
    loc = f.result.location
    file = display_path(f.root, loc.file) if loc.file else None
    message = f"{f.result.message} [{f.result.resource}]"
    if not loc.file and (loc.arn or loc.api_call):
        message += f" ({loc.arn or f.root}{', ' + loc.api_call if loc.api_call else ''})"
    if f.status is Status.UNRESOLVED:
        name, title = "notice", f"{f.rule_id} unresolved"
    else:
        name, title = COMMANDS[f.severity], f.rule_id
    return command(name, message, file=file, line=loc.line if file else None, title=title)


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    lines = [a for a in (annotation(f) for f in ordered(report, show_passed=False)) if a]
    for error in report.errors:
        m = _WHERE_LINE.match(error.where)
        file, line = (m["file"], m["line"]) if m else (error.where, None)
        lines.append(
            command("error", f"{error.kind}: {error.message}", file=file, line=line, title="input error")
        )
    for op in report.denied:
        lines.append(
            command("error", f"AWS refused {op}: the audit needs this permission", title="access denied")
        )
    lines.append(render_text(report, show_passed=show_passed, color=False).splitlines()[-1])
    return "\n".join(lines) + "\n"
