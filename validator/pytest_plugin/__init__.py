"""pytest plugin: the aurora-validate vocabulary for pytest-bdd scenarios.

Installed with aurora-validate (entry point ``pytest11``), so a team writes
only a ``.feature`` file and a one-line test module next to it::

    from pytest_bdd import scenarios; scenarios(".")

Every step works on a temporary COPY of a Terraform configuration, changes it
by editing its HCL text, runs the real command line in-process with
``--format json`` and reads the JSON report::

    Scenario: Serverless v1 engine mode is rejected
      Given the reference deployment "reference/terraform"
      And the aurora cluster's engine_mode is "serverless"
      When I validate it
      Then rule AV102 fails with severity error at "modules/aurora/aurora.tf" on the engine_mode line

Outcomes: a rule *fails* when at least one of its findings fails; it *passes*
when at least one passes and none fails; it *is unresolved* when at least one
is unresolved and none fails. The filters (severity, resource, file, line)
narrow the findings looked at.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# --------------------------------------------------------------------------- #
# HCL text: bracket depth per line, blocks and attributes

_HEADER = re.compile(r'^\s*([A-Za-z_][\w-]*)((?:\s+(?:"[^"]*"|[A-Za-z_][\w-]*))*)\s*\{')
_ASSIGN = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=(?!=)")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n")
_LABEL = re.compile(r'"([^"]*)"|([A-Za-z_][\w-]*)')
_COPY_IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", ".git")

# Friendly names for resource types, as a user would say them.
ALIASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # phrase: (resource type, preferred name fragments when several blocks exist)
    "aurora cluster": ("aws_rds_cluster", ()),
    "cluster": ("aws_rds_cluster", ()),
    "aurora instance": ("aws_rds_cluster_instance", ()),
    "instance": ("aws_rds_cluster_instance", ()),
    "writer instance": ("aws_rds_cluster_instance", ("writer",)),
    "subnet group": ("aws_db_subnet_group", ()),
    "db subnet group": ("aws_db_subnet_group", ()),
    "database security group": ("aws_security_group", ("db", "aurora", "database")),
    "security group": ("aws_security_group", ("db", "aurora", "database")),
    "knowledge base": ("aws_bedrockagent_knowledge_base", ()),
    "subnet": ("aws_subnet", ()),
    "vpc": ("aws_vpc", ()),
}


class ConfigurationError(AssertionError):
    """A step cannot find or change what it names in the configuration."""


def line_depths(text: str) -> list[int]:
    """Bracket depth at the start of each line (plus one entry after the last line).

    Brackets inside strings, template interpolations' strings, comments and
    heredocs do not count.
    """
    depths = [0]
    stack: list[str] = []  # "{", "[", "(", "str", "interp"
    i, n = 0, len(text)

    def depth() -> int:
        return sum(1 for s in stack if s in "{[(")

    while i < n:
        c = text[i]
        in_string = bool(stack) and stack[-1] == "str"
        if c == "\n":
            depths.append(depth())
            i += 1
            continue
        if in_string:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                stack.pop()
            elif c in "$%" and text.startswith("{", i + 1):
                stack.append("interp")
                i += 1
            i += 1
            continue
        if c == '"':
            stack.append("str")
        elif c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            stop = n if end < 0 else end + 2
            depths.extend([depth()] * text.count("\n", i, stop))
            i = stop
            continue
        elif text.startswith("<<", i) and (m := _HEREDOC.match(text, i)):
            marker = m.group(1)
            body = m.end()
            end = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.MULTILINE).search(text, body)
            stop = n if end is None else end.end()
            depths.extend([depth()] * text.count("\n", i, stop))
            i = stop
            continue
        elif c in "{[(":
            stack.append(c)
        elif c in "}])" and stack:
            stack.pop()  # a bracket, or the end of a template interpolation
        i += 1
    if len(depths) == text.count("\n") + 1:
        depths.append(depth())
    return depths


@dataclass(frozen=True)
class Span:
    """A block or attribute: 0-based first and last line, the depth of its first line."""

    kind: str  # block type or attribute name
    labels: tuple[str, ...]
    start: int
    end: int
    depth: int


def _extent(depths: list[int], start: int, depth: int) -> int:
    """The last line of the construct starting on line ``start`` at ``depth``."""
    for j in range(start, len(depths) - 1):
        if depths[j + 1] <= depth:
            return j
    return len(depths) - 2


def blocks_in(lines: list[str], depths: list[int], first: int, last: int, depth: int) -> list[Span]:
    out = []
    for i in range(first, last + 1):
        if depths[i] != depth:
            continue
        m = _HEADER.match(lines[i])
        if not m:
            continue
        labels = tuple(a or b for a, b in _LABEL.findall(m.group(2)))
        out.append(Span(m.group(1), labels, i, _extent(depths, i, depth), depth))
    return out


def attributes_in(lines: list[str], depths: list[int], first: int, last: int, depth: int) -> list[Span]:
    out = []
    for i in range(first, last + 1):
        if depths[i] != depth:
            continue
        m = _ASSIGN.match(lines[i])
        if m:
            out.append(Span(m.group(1), (), i, _extent(depths, i, depth), depth))
    return out


@dataclass(frozen=True)
class BlockRef:
    """A top-level block of a file of the configuration."""

    file: Path
    type: str  # "resource", "variable", ...
    labels: tuple[str, ...]

    @property
    def address(self) -> str:
        return ".".join(self.labels[:2]) if self.type == "resource" else f"{self.type}.{'.'.join(self.labels)}"


class TerraformCopy:
    """A private copy of a Terraform configuration that steps may edit."""

    def __init__(self, source: Path, destination: Path) -> None:
        if not source.is_dir():
            raise ConfigurationError(f"{source}: not a directory")
        shutil.copytree(source, destination, ignore=_COPY_IGNORE, dirs_exist_ok=True)
        self.root = destination
        self.source = source

    # ------------------------------------------------------------ reading
    def files(self) -> list[Path]:
        hidden = lambda p: any(part.startswith(".") for part in p.relative_to(self.root).parts)  # noqa: E731
        return sorted(p for p in self.root.rglob("*.tf") if not hidden(p))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _parsed(self, path: Path) -> tuple[list[str], list[int]]:
        text = path.read_text(encoding="utf-8")
        return text.split("\n"), line_depths(text)

    def blocks(self, block_type: str = "resource") -> list[BlockRef]:
        out = []
        for path in self.files():
            lines, depths = self._parsed(path)
            for span in blocks_in(lines, depths, 0, len(lines) - 1, 0):
                if span.kind == block_type:
                    out.append(BlockRef(path, span.kind, span.labels))
        return out

    def find(self, target: str) -> BlockRef:
        """A resource named as a user would: "aurora cluster", 'subnet "public_subnet_c"', 'aws_subnet "a"'."""
        phrase = target.strip()
        phrase = re.sub(r"^the\s+", "", phrase)
        named = re.fullmatch(r'(.+?)\s+"([^"]+)"', phrase)
        wanted_name = named.group(2) if named else None
        kind = (named.group(1) if named else phrase).strip().lower()
        if kind in ALIASES:
            rtype, hints = ALIASES[kind]
        elif re.fullmatch(r"[a-z0-9]+_[\w]+", kind):
            rtype, hints = kind, ()
        else:
            known = ", ".join(sorted(ALIASES))
            raise ConfigurationError(f"unknown resource {target!r}: say one of {known}, or a type and a name")
        found = [b for b in self.blocks("resource") if b.labels[:1] == (rtype,)]
        if wanted_name is not None:
            found = [b for b in found if b.labels[1:2] == (wanted_name,)]
        if len(found) > 1:
            preferred = [b for b in found if any(h in b.labels[1] for h in hints)]
            found = preferred if len(preferred) == 1 else found
        if not found:
            raise ConfigurationError(f"no {rtype} {wanted_name or ''} in {self.source}".replace("  ", " "))
        if len(found) > 1:
            names = ", ".join(f'{rtype} "{b.labels[1]}"' for b in found)
            raise ConfigurationError(f"{target!r} is ambiguous ({names}); name the one you mean")
        return found[0]

    def variable(self, name: str) -> BlockRef:
        found = [b for b in self.blocks("variable") if b.labels[:1] == (name,) and b.file.parent == self.root]
        if not found:
            raise ConfigurationError(f'no variable "{name}" in the root module of {self.source}')
        return found[0]

    def _span(self, ref: BlockRef, lines: list[str], depths: list[int]) -> Span:
        for span in blocks_in(lines, depths, 0, len(lines) - 1, 0):
            if span.kind == ref.type and span.labels == ref.labels:
                return span
        raise ConfigurationError(f"{ref.address} is no longer in {self.rel(ref.file)}")

    def _walk(
        self, ref: BlockRef, path: str, lines: list[str], depths: list[int], create: bool = False
    ) -> tuple[Span, str]:
        """The innermost existing block of a dotted path and the rest of the path below it."""
        block = self._span(ref, lines, depths)
        parts = path.split(".")
        for k, part in enumerate(parts[:-1]):
            inner = [
                b for b in blocks_in(lines, depths, block.start + 1, block.end - 1, block.depth + 1) if b.kind == part
            ]
            if not inner:
                if not create:
                    raise ConfigurationError(f"{ref.address} has no {part} block")
                return block, ".".join(parts[k:])
            block = inner[0]
        return block, parts[-1]

    def line_of(self, file: str, name: str, within: BlockRef | None = None) -> list[int]:
        """1-based lines of ``file`` where argument ``name`` (or a block of that type) starts."""
        path = self.root / file
        if not path.is_file():
            raise ConfigurationError(f"{file}: no such file in the configuration")
        lines, depths = self._parsed(path)
        first, last = 0, len(lines) - 1
        if within is not None and within.file == path:
            span = self._span(within, lines, depths)
            first, last = span.start, span.end
        leaf = name.split(".")[-1]
        found = []
        for i in range(first, last + 1):
            m = _ASSIGN.match(lines[i]) or _HEADER.match(lines[i])
            if m and m.group(1) == leaf:
                found.append(i + 1)
        return found

    def block_line(self, ref: BlockRef) -> int:
        lines, depths = self._parsed(ref.file)
        return self._span(ref, lines, depths).start + 1

    # ------------------------------------------------------------ editing
    def set(self, ref: BlockRef, path: str, value: str) -> None:
        """Set argument ``path`` (dotted for nested blocks) of a block to the HCL expression ``value``."""
        lines, depths = self._parsed(ref.file)
        block, leaf = self._walk(ref, path, lines, depths, create=True)
        indent = self._indent(lines, block)
        if "." in leaf:  # nested blocks to create
            *names, last = leaf.split(".")
            text, pad = [], indent
            for name in names:
                text.append(f"{pad}{name} {{")
                pad += "  "
            text.append(f"{pad}{last} = {value}")
            for _ in names:
                pad = pad[:-2]
                text.append(f"{pad}}}")
            lines[block.end : block.end] = text
        else:
            attrs = [
                a
                for a in attributes_in(lines, depths, block.start + 1, block.end - 1, block.depth + 1)
                if a.kind == leaf
            ]
            if attrs:
                a = attrs[0]
                head = re.match(r"\s*[\w-]+\s*=", lines[a.start]).group(0)  # type: ignore[union-attr]
                lines[a.start : a.end + 1] = [f"{head} {value}"]  # keeps the alignment of the "="
            else:
                lines[block.end : block.end] = [f"{indent}{leaf} = {value}"]
        ref.file.write_text("\n".join(lines), encoding="utf-8")

    def remove(self, ref: BlockRef, path: str) -> None:
        """Remove an argument or every nested block of that type."""
        lines, depths = self._parsed(ref.file)
        block, leaf = self._walk(ref, path, lines, depths)
        inner = [
            *attributes_in(lines, depths, block.start + 1, block.end - 1, block.depth + 1),
            *blocks_in(lines, depths, block.start + 1, block.end - 1, block.depth + 1),
        ]
        doomed = sorted((s for s in inner if s.kind == leaf), key=lambda s: s.start, reverse=True)
        if not doomed:
            raise ConfigurationError(f"{ref.address} does not set {path}")
        for span in doomed:
            del lines[span.start : span.end + 1]
        ref.file.write_text("\n".join(lines), encoding="utf-8")

    def append(self, ref: BlockRef, text: str) -> None:
        """Add HCL text at the end of a block's body."""
        lines, depths = self._parsed(ref.file)
        block = self._span(ref, lines, depths)
        indent = self._indent(lines, block)
        added = [f"{indent}{line}" if line.strip() else "" for line in text.strip("\n").split("\n")]
        lines[block.end : block.end] = added
        ref.file.write_text("\n".join(lines), encoding="utf-8")

    def add_file_text(self, file: str, text: str) -> Path:
        path = self.root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(before.rstrip("\n") + ("\n\n" if before else "") + text.strip("\n") + "\n", encoding="utf-8")
        return path

    def replace_text(self, file: str, old: str, new: str) -> None:
        path = self.root / file
        if not path.is_file():
            raise ConfigurationError(f"{file}: no such file in the configuration")
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise ConfigurationError(f"{file} does not contain {old!r}")
        path.write_text(text.replace(old, new), encoding="utf-8")

    @staticmethod
    def _indent(lines: list[str], block: Span) -> str:
        for i in range(block.start + 1, block.end):
            if lines[i].strip():
                return re.match(r"\s*", lines[i]).group(0)  # type: ignore[union-attr]
        lead = re.match(r"\s*", lines[block.start]).group(0)  # type: ignore[union-attr]
        return lead + "  "


# --------------------------------------------------------------------------- #
# Running the command line and reading its JSON report


@dataclass
class Run:
    """One in-process run of ``aurora-validate``."""

    argv: list[str]
    exit_code: int
    report: dict[str, Any] | None
    stdout: str
    stderr: str

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list((self.report or {}).get("findings", []))

    def of_rule(self, rule_id: str) -> list[dict[str, Any]]:
        return [f for f in self.findings if f.get("rule_id") == rule_id.upper()]

    def describe(self) -> str:
        rows = [
            f"  {f['rule_id']} {f['status']} {f['severity']} {_where(f)} [{f['resource']}] {f['message']}"
            for f in self.findings
        ]
        errors = [f"  error: {e.get('where')}: {e.get('message')}" for e in (self.report or {}).get("errors", [])]
        return "\n".join(
            [
                f"aurora-validate {' '.join(self.argv)} -> exit {self.exit_code}",
                *rows,
                *errors,
                *(f"  stderr: {line}" for line in self.stderr.splitlines()),
            ]
        )


def _where(f: dict[str, Any]) -> str:
    loc = f.get("location") or {}
    if loc.get("file"):
        return f"{loc['file']}:{loc.get('line')}"
    return loc.get("api_call") or loc.get("via") or "-"


def run_cli(argv: list[str], workdir: Path) -> Run:
    """``aurora-validate ARGV --format json --show-passed`` in-process; the report goes to a file."""
    from validator.cli import main

    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"report-{len(list(workdir.glob('report-*.json')))}.json"
    full = [*argv, "--format", "json", "--show-passed", "--output", str(out)]
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        code = main(full)
    report = json.loads(out.read_text(encoding="utf-8")) if out.is_file() and out.stat().st_size else None
    return Run(
        full, code, report, (out.read_text(encoding="utf-8") if out.is_file() else "") + std.getvalue(), err.getvalue()
    )


# --------------------------------------------------------------------------- #
# Scenario state and outcome matching


@dataclass
class AuroraScenario:
    """What the steps of one scenario share."""

    workdir: Path
    search: list[Path]
    config: TerraformCopy | None = None
    target: BlockRef | None = None  # the block the last Given step changed
    run: Run | None = None
    matched: list[dict[str, Any]] = field(default_factory=list)
    # Extra ways to run the command (live, db) that project conftests plug in.
    runners: dict[str, Callable[[AuroraScenario, list[str]], Run]] = field(default_factory=dict)

    def locate(self, path: str) -> Path:
        candidate = Path(path)
        if candidate.is_absolute() and candidate.exists():
            return candidate
        for base in self.search:
            if (base / path).exists():
                return (base / path).resolve()
        raise ConfigurationError(f"{path!r} not found under {', '.join(str(b) for b in self.search)}")

    def copy(self, path: str) -> TerraformCopy:
        source = self.locate(path)
        name = source.name or "configuration"
        self.config = TerraformCopy(source, self.workdir / "configurations" / name)
        return self.config

    def need_config(self) -> TerraformCopy:
        if self.config is None:
            raise ConfigurationError('no configuration yet: start with Given the reference deployment "DIR"')
        return self.config

    def need_run(self) -> Run:
        if self.run is None:
            raise ConfigurationError("nothing was validated yet: add a When step")
        return self.run


OUTCOMES = {"fails": "fail", "passes": "pass", "is unresolved": "unresolved"}


def _same_file(reported: str | None, wanted: str) -> bool:
    """A reported file is relative to the scanned root, or (drift) a path ending in it."""
    if not reported:
        return False
    return reported == wanted or reported.replace("\\", "/").endswith("/" + wanted.lstrip("./"))


def select(
    run: Run,
    rule_id: str,
    outcome: str,
    severity: str | None = None,
    resource: str | None = None,
    file: str | None = None,
    lines: list[int] | None = None,
) -> list[dict[str, Any]]:
    """The findings of a rule that give it ``outcome`` under the filters; [] when it does not hold."""
    status = OUTCOMES[outcome]
    findings = run.of_rule(rule_id)
    if resource:
        findings = [f for f in findings if f.get("resource") == resource]
    if status in ("pass", "unresolved") and any(f["status"] == "fail" for f in findings):
        return []
    hits = [f for f in findings if f["status"] == status]
    if severity:
        hits = [f for f in hits if f.get("severity") == severity]
    if file:
        hits = [f for f in hits if _same_file((f.get("location") or {}).get("file"), file)]
    if lines is not None:
        hits = [f for f in hits if (f.get("location") or {}).get("line") in lines]
    return hits


# --------------------------------------------------------------------------- #
# Steps (only when pytest-bdd is installed)

try:
    from pytest_bdd import given, parsers, then, when
except ImportError:  # pytest without pytest-bdd: the plugin offers nothing
    given = when = then = parsers = None  # type: ignore[assignment]


@pytest.fixture
def aurora_runners() -> dict[str, Callable[[AuroraScenario, list[str]], Run]]:
    """Ways to run ``When I run aurora-validate MODE``; override in a conftest to add modes (live, db)."""
    return {}


@pytest.fixture
def aurora_scenario(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    aurora_runners: dict[str, Callable[[AuroraScenario, list[str]], Run]],
) -> Iterator[AuroraScenario]:
    """Per-scenario state; paths are looked up from the test's directory, the rootdir and the cwd."""
    test_dir = Path(str(request.node.path)).parent
    search: list[Path] = []
    for base in (test_dir, request.config.rootpath, Path.cwd()):
        if base not in search:
            search.append(base)
    yield AuroraScenario(workdir=tmp_path, search=search, runners=dict(aurora_runners))


def _step(kind: Any, pattern: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if kind is None:
        return lambda fn: fn  # pytest-bdd is not installed
    return kind(parsers.re(pattern))


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


# -- Given: configurations and changes to them --------------------------------


@_step(given, r'(?:the reference deployment|the Terraform configuration|a copy of) "(?P<path>[^"]+)"')
def _given_configuration(aurora_scenario: AuroraScenario, path: str) -> None:
    aurora_scenario.copy(path)


@_step(given, r"the variable \"(?P<name>[\w-]+)\" defaults to (?P<value>.+)")
def _given_variable_default(aurora_scenario: AuroraScenario, name: str, value: str) -> None:
    config = aurora_scenario.need_config()
    ref = config.variable(name)
    config.set(ref, "default", value.strip())
    aurora_scenario.target = ref


def _edit(scenario: AuroraScenario, target: str, change: Callable[[TerraformCopy, BlockRef], None]) -> None:
    """Change the block ``target`` names in the scenario's copy; later steps may say "on the ARG line" of it."""
    config = scenario.need_config()
    ref = config.find(target)
    change(config, ref)
    scenario.target = ref


@_step(given, r"(?P<target>the .+?)'s (?P<path>[\w.-]+) is (?P<value>.+)")
def _given_argument(aurora_scenario: AuroraScenario, target: str, path: str, value: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.set(ref, path, value.strip()))


@_step(given, r"(?P<target>the .+?) (?:has no|does not set) (?P<path>[\w.-]+)(?: block| argument)?")
def _given_removed(aurora_scenario: AuroraScenario, target: str, path: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.remove(ref, path))


@_step(given, r"(?P<target>the .+?) also has:")
def _given_block_text(aurora_scenario: AuroraScenario, target: str, docstring: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.append(ref, docstring))


@_step(given, r'the file "(?P<file>[^"]+)" (?:also )?contains:')
def _given_file_text(aurora_scenario: AuroraScenario, file: str, docstring: str) -> None:
    aurora_scenario.need_config().add_file_text(file, docstring)


@_step(given, r'in "(?P<file>[^"]+)" the text "(?P<old>.+)" is replaced by "(?P<new>.*)"$')
def _given_replaced(aurora_scenario: AuroraScenario, file: str, old: str, new: str) -> None:
    aurora_scenario.need_config().replace_text(file, old, new)


# -- When: running the command ---------------------------------------------------


def _validate(scenario: AuroraScenario, extra: list[str]) -> None:
    config = scenario.need_config()
    scenario.run = run_cli([str(config.root), *extra], scenario.workdir / "reports")


@_step(when, r"I validate it$")
def _when_validate(aurora_scenario: AuroraScenario) -> None:
    _validate(aurora_scenario, [])


@_step(when, r"I validate it with the (?P<profile>[\w-]+) profile")
def _when_validate_profile(aurora_scenario: AuroraScenario, profile: str) -> None:
    _validate(aurora_scenario, ["--ruleset", profile])


@_step(when, r'I validate it with "(?P<args>[^"]*)"')
def _when_validate_args(aurora_scenario: AuroraScenario, args: str) -> None:
    _validate(aurora_scenario, shlex.split(args))


@_step(when, r'I run aurora-validate (?P<mode>[\w-]+)(?: with "(?P<args>[^"]*)")?')
def _when_run_mode(aurora_scenario: AuroraScenario, mode: str, args: str | None) -> None:
    runner = aurora_scenario.runners.get(mode)
    if runner is None:
        known = ", ".join(sorted(aurora_scenario.runners)) or "none"
        raise ConfigurationError(f"no way to run aurora-validate {mode} here (known: {known})")
    aurora_scenario.run = runner(aurora_scenario, shlex.split(args or ""))


# -- Then: outcomes ----------------------------------------------------------------

_OUTCOME = (
    r"rule (?P<rule>AV\d{3}) (?P<outcome>fails|passes|is unresolved)"
    r"(?: with severity (?P<severity>error|warning|info))?"
    r'(?: for "(?P<resource>[^"]+)")?'
    r'(?: at "(?P<file>[^"]+)"'
    r"(?: on (?:the (?P<attr>[\w.-]+) line|line (?P<line>\d+)|the first line of (?P<block>the .+)))?)?$"
)


@_step(then, _OUTCOME)
def _then_outcome(
    aurora_scenario: AuroraScenario,
    rule: str,
    outcome: str,
    severity: str | None,
    resource: str | None,
    file: str | None,
    attr: str | None,
    line: str | None,
    block: str | None,
) -> None:
    run = aurora_scenario.need_run()
    lines: list[int] | None = None
    if file and attr:
        config = aurora_scenario.need_config()
        within = aurora_scenario.target
        lines = config.line_of(file, attr, within) or config.line_of(file, attr)
        if not lines:
            raise ConfigurationError(f"{file} sets no {attr}")
    elif file and line:
        lines = [int(line)]
    elif file and block:
        config = aurora_scenario.need_config()
        lines = [config.block_line(config.find(block))]
    hits = select(run, rule, outcome, severity, resource, file, lines)
    wanted = " ".join(
        p
        for p in (
            rule,
            outcome,
            severity and f"severity {severity}",
            resource,
            file and f"at {file}",
            lines and f"line {lines}",
        )
        if p
    )
    assert hits, f"expected {wanted}\n{run.describe()}"
    aurora_scenario.matched = hits


@_step(then, r'(?:its|the) message (?:says|mentions) "(?P<text>.+)"$')
def _then_message(aurora_scenario: AuroraScenario, text: str) -> None:
    matched = aurora_scenario.matched
    assert matched, "no finding was matched by an earlier Then step"
    assert any(text in f["message"] for f in matched), f"no matched finding says {text!r}:\n" + "\n".join(
        f"  {f['message']}" for f in matched
    )


@_step(then, r"rule (?P<rule>AV\d{3}) is suppressed")
def _then_suppressed(aurora_scenario: AuroraScenario, rule: str) -> None:
    run = aurora_scenario.need_run()
    suppressed = [f for f in (run.report or {}).get("suppressed", []) if f.get("rule_id") == rule]
    assert suppressed, f"rule {rule} is not suppressed\n{run.describe()}"
    assert not run.of_rule(rule), f"rule {rule} is suppressed but still reported\n{run.describe()}"
    aurora_scenario.matched = suppressed


@_step(then, r"rule (?P<rule>AV\d{3}) is not reported")
def _then_absent(aurora_scenario: AuroraScenario, rule: str) -> None:
    run = aurora_scenario.need_run()
    assert not run.of_rule(rule), f"rule {rule} was reported\n{run.describe()}"


@_step(then, r"no rule fails")
def _then_no_failure(aurora_scenario: AuroraScenario) -> None:
    run = aurora_scenario.need_run()
    assert run.report is not None, run.describe()
    failed = [f for f in run.findings if f["status"] == "fail"]
    assert not failed, f"failures found\n{run.describe()}"
    assert run.findings, f"no finding at all: nothing was checked\n{run.describe()}"


@_step(then, r"the exit code is (?P<code>\d+)")
def _then_exit(aurora_scenario: AuroraScenario, code: str) -> None:
    run = aurora_scenario.need_run()
    assert run.exit_code == int(code), run.describe()


@_step(then, r'the (?:report|output) (?:does not|never) (?:contains?|shows?) "(?P<text>.+)"$')
def _then_not_in_output(aurora_scenario: AuroraScenario, text: str) -> None:
    run = aurora_scenario.need_run()
    assert run.stdout or run.stderr, "the run produced no output at all"
    assert text not in run.stdout and text not in run.stderr, f"{text!r} appears in the output"


@_step(then, r'the error says "(?P<text>.+)"$')
def _then_error(aurora_scenario: AuroraScenario, text: str) -> None:
    run = aurora_scenario.need_run()
    errors = [f"{e.get('where')}: {e.get('message')}" for e in (run.report or {}).get("errors", [])]
    lines = [line for line in run.stderr.splitlines() if line.strip()] + errors
    assert any(text in line for line in lines), f"no error says {text!r}\n{run.describe()}"
    assert "Traceback" not in run.stderr, run.stderr
