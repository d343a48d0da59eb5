"""Text for people: findings grouped by root and file, each with its source line, fix and link.

    reference/terraform
      modules/network/network.tf
        warning AV301 module.network.aws_security_group.aurora_sg admits port 5432 from 0.0.0.0/0 ...
           --> reference/terraform/modules/network/network.tf:76 [module.network.aws_security_group.aurora_sg]
            |
         76 |     cidr_blocks = ["0.0.0.0/0"]
            |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^
            = fix: security_groups = [aws_security_group.app.id] # or a narrow office CIDR (aws_security_group)
            = docs: https://docs.aws.amazon.com/...

``compact`` keeps one line per finding; ``quiet`` leaves out unresolved and passed checks.
A source line that holds a sensitive value (a master password literal, the default
of a password variable, a tfvars entry) is shown redacted, never as written.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from validator.findings import Finding, Report
from validator.redact import sensitive_places
from validator.reporters.common import display_path, ordered
from validator.rules import Rule, Status

_COLORS = {
    "error": "31",
    "warning": "33",
    "info": "36",
    "unresolved": "35",
    "pass": "32",
    "gutter": "34",
    "bold": "1",
    "dim": "2",
}
REDACTED = "<sensitive value redacted>"
# Names whose literal values are secrets, whatever the model says (the second line of defence).
_SENSITIVE_NAME = re.compile(r"(password|passwd|secret|token|private_key|api_key|credential)", re.IGNORECASE)
# A sensitive name assigned a literal anywhere on a line: `master_password = "..."`, `"db_token": "..."`.
_SENSITIVE_LITERAL = re.compile(
    r'"?[\w.-]*(?:password|passwd|secret|token|private_key|api_key|credential)[\w.-]*"?\s*[=:]\s*(?=["\'<\d])',
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(r'^(\s*"?[\w.-]+"?\s*[=:]\s*)(.*)$')
_VARIABLE = re.compile(r'^\s*variable\s+"([^"]+)"')
_MAX_EXCERPT = 160
_BLOCK_LINES = 8  # a block opened on the reported line is shown whole when it is this short


def _paint(text: str, key: str, color: bool) -> str:
    return f"\033[{_COLORS[key]}m{text}\033[0m" if color else text


def _where(f: Finding) -> str:
    loc = f.result.location
    if loc.file:
        path = display_path(f.root, loc.file)
        return f"{path}:{loc.line}" if loc.line else path
    if loc.api_call:
        return f"{loc.arn or f.root} ({loc.api_call})"
    return f.root


def _label(f: Finding) -> str:
    if f.status is Status.FAIL:
        return f.severity.value
    if f.status is Status.UNRESOLVED:
        return "unresolved"
    return "pass"


def line(f: Finding, color: bool = False) -> str:
    """The compact form: one line per finding."""
    label = _label(f)
    return f"{_where(f)}: {_paint(label, label, color)} {f.rule_id} {f.result.message} [{f.result.resource}]"


def one_line_fix(rule: Rule, message: str = "") -> str:
    """The line of the rule's fix snippet that says what to change, with the block it goes in.

    Preference: an argument the finding's message names, then a line the snippet comments,
    then its only literal argument; "" when no single line says it (the snippet is for ``explain``).
    """
    lines = [raw.strip() for raw in rule.fix.splitlines() if raw.strip()]
    comments = [ln for ln in lines if ln.startswith(("#", "--"))]
    body = [ln for ln in lines if not ln.startswith(("#", "--"))]
    if not body:
        return comments[0].lstrip("#-").strip().rstrip(".") if comments else ""
    block = next((_block_name(m) for ln in body if (m := re.match(r'(resource|variable)\s+"([^"]+)"', ln))), "")
    leaves = [ln for ln in body if "=" in ln and not ln.endswith("{") and not ln.startswith("}")]
    if not leaves:
        return body[0]  # SQL: the first statement
    named = [ln for ln in leaves if re.search(rf"\b{re.escape(ln.split('=')[0].strip())}\b", message)]
    literal = [ln for ln in leaves if re.search(r'=\s*("|-?\d|true\b|false\b)', ln)]
    commented = [ln for ln in leaves if "#" in ln]
    chosen = next(
        (group[0] for group in (named, commented) if group),
        literal[0] if len(literal) == 1 else (leaves[0] if len(leaves) == 1 else ""),
    )
    if not chosen:
        return ""
    chosen = re.sub(r"\s+=\s+", " = ", chosen, count=1)
    return f"{block}: {chosen}" if block else chosen


def _block_name(match: re.Match[str]) -> str:
    kind, name = match.group(1), match.group(2)
    return name if kind == "resource" else f"{kind} {name}"


def _fix_hint(f: Finding) -> str:
    fix = one_line_fix(f.rule, f.result.message)
    several_lines = len([ln for ln in f.rule.fix.splitlines() if ln.strip()]) > 1
    if not fix:
        return f"aurora-validate explain {f.rule_id}"
    return f"{fix}  (full fix: aurora-validate explain {f.rule_id})" if several_lines else fix


class _FileLines:
    """Source lines by display path, the files in use kept; knows which lines hold sensitive values.

    Findings come root by root, so a few recent files serve them, and a run over many roots does not
    hold every file it reports on.
    """

    KEEP = 32  # files kept

    def __init__(self, report: Report) -> None:
        self._files: OrderedDict[str, list[str] | None] = OrderedDict()
        self.sensitive_lines: set[tuple[str, int]] = set(report.sensitive_lines)
        self.secrets: set[str] = set(report.sensitive_texts)
        for deployment in report.deployments:
            lines, texts = sensitive_places(deployment)
            self.sensitive_lines |= lines
            self.secrets |= texts

    def lines(self, path: str) -> list[str] | None:
        if path in self._files:
            self._files.move_to_end(path)
            return self._files[path]
        try:
            lines: list[str] | None = Path(path).read_bytes().decode("utf-8-sig", errors="replace").splitlines()
        except OSError:
            lines = None
        self._files[path] = lines
        if len(self._files) > self.KEEP:
            self._files.popitem(last=False)
        return lines

    def excerpt(self, path: str, number: int) -> str | None:
        """Line ``number`` of ``path`` as it may be shown (redacted when sensitive); None when unreadable."""
        lines = self.lines(path)
        if lines is None or not 0 < number <= len(lines):
            return None
        text = lines[number - 1].replace("\t", "    ").rstrip()
        literal = _SENSITIVE_LITERAL.search(text)
        if literal:
            text = text[: literal.end()] + REDACTED
        elif self._sensitive(path, number, lines, text):
            m = _ASSIGNMENT.match(text)
            text = f"{m.group(1)}{REDACTED}" if m else REDACTED
        if len(text) > _MAX_EXCERPT:
            text = text[: _MAX_EXCERPT - 3] + "..."
        return text

    def block_after(self, path: str, number: int) -> list[tuple[int, str]]:
        """The lines after an opening ``{`` on line ``number`` through its ``}``; [] when the block is long."""
        lines = self.lines(path) or []
        depth = 0
        out: list[tuple[int, str]] = []
        for n in range(number, min(len(lines), number + _BLOCK_LINES) + 1):
            raw = re.sub(r'"(?:[^"\\]|\\.)*"|#.*$|//.*$', "", lines[n - 1])
            depth += raw.count("{") - raw.count("}")
            if n > number:
                out.append((n, self.excerpt(path, n) or ""))
            if depth <= 0:
                return out
        return []

    def _sensitive(self, path: str, number: int, lines: list[str], text: str) -> bool:
        if (path, number) in self.sensitive_lines or any(s in text for s in self.secrets):
            return True
        m = _ASSIGNMENT.match(text)
        if m and m.group(1).strip().startswith("default"):
            for above in reversed(lines[: number - 1]):
                declared = _VARIABLE.match(above)
                if declared:
                    return bool(_SENSITIVE_NAME.search(declared.group(1)))
                if above.strip() == "}":
                    break
        return False


def _detail(f: Finding, lines: _FileLines, color: bool) -> list[str]:
    label = _label(f)
    head = f"    {_paint(label, label, color)} {_paint(f.rule_id, 'bold', color)} {f.result.message}"
    out = [head]
    loc = f.result.location
    gutter_width = len(str(loc.line + _BLOCK_LINES)) if loc.line else 1
    pad = " " * (gutter_width + 5)
    arrow = f"{' ' * (gutter_width + 4)}{_paint('-->', 'gutter', color)}"
    out.append(f"{arrow} {_where(f)} [{f.result.resource}]")
    if loc.file and loc.line:
        out += _excerpt(lines, display_path(f.root, loc.file), loc.line, label, color)
    eq = _paint("=", "gutter", color)
    if f.status is Status.FAIL:
        out.append(f"{pad}{eq} fix: {_fix_hint(f)}")
    out.append(f"{pad}{eq} docs: {f.rule.doc_url}")
    return out


def _excerpt(lines: _FileLines, path: str, number: int, label: str, color: bool) -> list[str]:
    """The reported line, marked; a short block it opens (``ingress {``) is shown whole."""
    text = lines.excerpt(path, number)
    if text is None:
        return []
    width = len(str(number + _BLOCK_LINES))
    bar = _paint("|", "gutter", color)
    pad = " " * (width + 5)
    block = lines.block_after(path, number) if text.rstrip().endswith("{") else []
    if not block:
        stripped = text.lstrip()
        marker = " " * (len(text) - len(stripped)) + "^" * max(1, min(len(stripped), 80))
        numbered = _paint(str(number).rjust(width), "gutter", color)
        return [f"{pad}{bar}", f"    {numbered} {bar} {text}", f"{pad}{bar} {_paint(marker, label, color)}"]
    out = [f"{pad}{bar}"]
    for n, line_text in [(number, text), *block]:
        numbered = _paint(str(n).rjust(width), "gutter", color)
        mark = _paint(">", label, color) if n == number else " "
        out.append(f"  {mark} {numbered} {bar} {line_text}")
    out.append(f"{pad}{bar}")
    return out


def _groups(findings: Iterable[Finding]) -> dict[str, dict[str, list[Finding]]]:
    grouped: dict[str, dict[str, list[Finding]]] = {}
    for f in findings:
        loc = f.result.location
        where = loc.file or ""
        grouped.setdefault(f.root, {}).setdefault(where, []).append(f)
    return grouped


def _by_rule(findings: list[Finding]) -> str:
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        counts.setdefault(f.rule_id, {}).setdefault(_label(f), 0)
        counts[f.rule_id][_label(f)] += 1
    parts = []
    for rule_id in sorted(counts):
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts[rule_id].items()))
        parts.append(f"{rule_id} ({kinds})")
    return "by rule: " + "; ".join(parts)


def _tail(report: Report) -> str:
    counts = report.summary()
    tail = (
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s), "
        f"{counts['unresolved']} unresolved, {counts['passed']} passed"
    )
    if counts["suppressed"]:
        by_what = ", ".join(f"{n} {k}" for k, n in report.suppression_counts().items())
        tail += f", {counts['suppressed']} suppressed ({by_what})"
    targets, also = report.roots, ""
    noun = report.noun or ("root module" if report.roots and not report.roots[0].startswith("arn:") else "target")
    if noun == "database":  # db: the database, compared with a Terraform directory when one is given
        targets = [r for r in report.roots if "://" in r]
        others = [r for r in report.roots if "://" not in r]
        also = f", compared with {', '.join(others)}" if others else ""
    count = len(targets)
    if len(report.accounts) > 1:
        also += f" in {len(report.accounts)} AWS accounts"
    return f"{tail} in {count} {noun}{'' if count == 1 else 's'}{also} (profile {report.profile})"


def render(
    report: Report, show_passed: bool = False, color: bool = False, compact: bool = False, quiet: bool = False
) -> str:
    findings = ordered(report, show_passed and not quiet)
    if quiet:
        findings = [f for f in findings if f.status is Status.FAIL]
    if compact:
        lines = [line(f, color) for f in findings]
    else:
        lines = _full(report, findings, color)
    lines += [f"AWS refused {op}: the audit needs this permission" for op in report.denied]
    lines += [f"AWS failed {op}: what it reads is left unknown (see AV503)" for op in report.failed_calls]
    problems = [f for f in findings if f.status is not Status.PASS]
    if problems and not compact:
        lines.append(_by_rule(problems))
    lines.append(_tail(report))
    return "\n".join(lines) + "\n"


def _full(report: Report, findings: list[Finding], color: bool) -> list[str]:
    lines = _FileLines(report)
    out: list[str] = []
    for root, files in _groups(findings).items():
        out.append(_paint(root, "bold", color))
        for file, group in files.items():
            if file:
                out.append(f"  {file}")
            for f in group:
                if f.status is Status.PASS:
                    at = f" (line {f.result.location.line})" if f.result.location.line else ""
                    label = _paint("pass", "pass", color)
                    out.append(f"    {label} {f.rule_id} {f.result.message} [{f.result.resource}]{at}")
                else:
                    out += _detail(f, lines, color)
        out.append("")
    return out
