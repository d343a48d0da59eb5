"""Run the rule catalogue on fixture configurations and read their expectations.

A rule fixture is one self-contained ``.tf`` file (a provider block, a cluster,
instances, a subnet group with two subnets, a security group), or a directory
when it needs more files (a ``terraform.tfvars``). A comment
``# expect: AV104 fail`` on a line says that the rule yields that status with
its location on that very line. ``scan`` loads a single file on its own
(copied into a fresh directory under the same name) or a whole directory.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from validator.engine import Finding, evaluate
from validator.model import Deployment
from validator.sources.terraform.hcl import load_root

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
_EXPECT = re.compile(r"#\s*expect:\s*(AV\d{3})\s+(pass|fail|unresolved)\b")


def load(path: Path | str) -> Deployment:
    """The model of a fixture file (alone in a directory) or of a directory."""
    path = Path(path)
    if path.is_dir():
        return load_root(path).deployment
    with tempfile.TemporaryDirectory(prefix="rulekit-") as tmp:
        shutil.copy(path, Path(tmp) / path.name)
        return load_root(Path(tmp)).deployment


def scan(path: Path | str, profile: str = "default") -> list[Finding]:
    """Every rule's findings on a fixture file or directory."""
    return evaluate(load(path), profile)


@dataclass(frozen=True)
class Expectation:
    rule_id: str
    status: str
    file: str
    line: int


def expectations(path: Path) -> list[Expectation]:
    """The ``# expect:`` markers of a fixture file, or of every file in a fixture directory."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".tf", ".tfvars")) if path.is_dir() else [path]
    base = path if path.is_dir() else path.parent
    out = []
    for file in files:
        rel = file.relative_to(base).as_posix()
        for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _EXPECT.finditer(text):
                out.append(Expectation(match.group(1), match.group(2), rel, number))
    return out


def of_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def describe(findings: list[Finding]) -> str:
    """A readable dump for assertion messages."""
    return "\n".join(
        f"  {f.rule_id} {f.status.value} {f.result.location} {f.result.resource}: {f.result.message}" for f in findings
    )


def fixture_cases(pattern: str = "AV*") -> list[Path]:
    """Fixture files ``<rule>/<kind>/<name>.tf`` and directories ``<rule>/<kind>/<name>/``, sorted."""
    return sorted(p for p in FIXTURES.glob(f"{pattern}/*/*") if p.suffix == ".tf" or p.is_dir())
