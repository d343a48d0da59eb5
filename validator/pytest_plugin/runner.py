"""Running aurora-validate in-process, the state a scenario's steps share, and what an outcome means.

Outcomes: a rule *fails* when at least one of its findings fails; it *passes*
when at least one passes and none fails; it *is unresolved* when at least one
is unresolved and none fails. The filters (severity, resource, file, line)
narrow the findings looked at.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.pytest_plugin.errors import ConfigurationError

if TYPE_CHECKING:
    from validator.pytest_plugin.configuration import BlockRef, TerraformCopy


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
    from validator.cli import main  # lazy: pytest loads this plugin in every session, scenarios or not

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
        # lazy: the syntax tree's modules load when a scenario first copies a configuration, not with pytest
        from validator.pytest_plugin.configuration import TerraformCopy

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
