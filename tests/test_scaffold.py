"""The rule scaffold: a new rule's class, fixtures, scenarios and docs entry, written into a copy of the checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import scaffold
from validator.rules import get_rule

REPO = Path(__file__).resolve().parent.parent


def free_id(family: str) -> str:
    """An id no rule has in the family (from the top, so a rule being added by hand does not take it)."""
    return next(f"AV{family}{n:02d}" for n in range(99, 0, -1) if get_rule(f"AV{family}{n:02d}") is None)


NEW = free_id("1")
STEP = re.compile(r"^\s*(?:Then|And|But)\s+rule (AV\d{3}) (fails|passes|is unresolved)\b", re.MULTILINE)

# Run in the copy: the new rule is in the catalogue, its fixtures give what their markers say, the table is current.
CHECK = """
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from rulekit import expectations, fixture_cases, of_rule, scan
from validator import docs
from validator.rules import get_rule
from validator.rules.base import ClusterRule

rule_id = sys.argv[1]
rule = get_rule(rule_id)
assert isinstance(rule, ClusterRule), rule
problems = []
cases = fixture_cases(rule_id)
for path in cases:
    kind = path.parent.name
    findings = of_rule(scan(path), rule_id)
    for e in expectations(path):
        hits = [f for f in findings if f.status.value == e.status
                and (f.result.location.file, f.result.location.line) == (e.file, e.line)]
        if e.rule_id == rule_id and (e.status != kind or not hits):
            problems.append(f"{path.parent.name}/{path.name}: no {e.status} at {e.file}:{e.line}")
base = Path("tests/fixtures/rules/AV101/pass/aurora_postgresql.tf")
if {f.status.value for f in of_rule(scan(base), rule_id)} != {"pass"}:
    problems.append("the clean base does not pass")
if not docs.is_current(Path("README.md").read_text(encoding="utf-8")):
    problems.append("README.md is stale")
print(f"{len(cases)} fixtures")
print("\\n".join(problems) or "ok")
"""


def checkout_copy(tmp_path: Path) -> Path:
    """The parts of the checkout the scaffold writes to and the check reads."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "validator", root / "validator", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests" / "fixtures" / "rules", root / "tests" / "fixtures" / "rules")
    shutil.copy(REPO / "tests" / "rulekit.py", root / "tests" / "rulekit.py")
    (root / "features").mkdir()
    for feature in (REPO / "features").glob("*.feature"):
        shutil.copy(feature, root / "features" / feature.name)
    shutil.copy(REPO / "README.md", root / "README.md")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def run_in(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *argv], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


ARGUMENT_RULE = (
    "-m", "validator.scaffold", NEW, "Deletion protection is enabled",
    "--severity", "info", "--argument", "deletion_protection",
    "--doc-url", "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html",
    "--rationale", "AWS refuses to delete a cluster with deletion protection until it is turned off.",
    "--risk", "A mistaken terraform destroy deletes the knowledge base's store.",
)  # fmt: skip


def test_a_rule_on_a_boolean_argument_is_complete_and_its_fixtures_hold(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    before = snapshot(root)
    done = run_in(root, *ARGUMENT_RULE)
    assert done.returncode == 0, done.stderr
    after = snapshot(root)
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert changed == [
        "README.md",
        "features/serverless_v2.feature",
        "tests/fixtures/rules/AV101/pass/aurora_postgresql.tf",
        f"tests/fixtures/rules/{NEW}/fail/deletion_protection_false.tf",
        f"tests/fixtures/rules/{NEW}/pass/deletion_protection_true.tf",
        f"tests/fixtures/rules/{NEW}/unresolved/deletion_protection_variable.tf",
        "validator/rules/serverless.py",
    ]
    assert set(before) <= set(after)  # nothing removed
    lines = done.stdout.splitlines()
    assert lines[: len(changed)] == [f"wrote {p}" for p in changed]
    assert all(line.startswith("next: ") for line in lines[len(changed) :])
    assert any("exporters/checkov.py" in line for line in lines) and any("UPDATE_SNAPSHOTS" in line for line in lines)

    check = run_in(root, "-c", CHECK, NEW)
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines() == ["3 fixtures", "ok"]
    lint = run_in(root, "-m", "ruff", "check", "--no-cache", "validator/rules/serverless.py")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    module = (root / "validator/rules/serverless.py").read_text(encoding="utf-8")
    assert "class DeletionProtectionIsEnabled(ClusterRule):" in module
    assert "cluster.deletion_protection" in module and scaffold.PLACEHOLDER not in module
    feature = (root / "features/serverless_v2.feature").read_text(encoding="utf-8")
    assert {m.groups() for m in STEP.finditer(feature) if m.group(1) == NEW} == {(NEW, "passes"), (NEW, "fails")}
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f"| {NEW} | info | Deletion protection is enabled | hcl, plan, live |" in readme


def test_a_stub_fails_its_own_fixtures_until_it_is_written(tmp_path: Path) -> None:
    root = checkout_copy(tmp_path)
    stub = free_id("3")
    done = run_in(root, "-m", "validator.scaffold", stub, "Something holds", "--severity", "warning")
    assert done.returncode == 0, done.stderr
    assert "wrote validator/rules/security.py" in done.stdout.splitlines()
    module = (root / "validator/rules/security.py").read_text(encoding="utf-8")
    assert "class SomethingHolds(ClusterRule):" in module and scaffold.PLACEHOLDER in module
    check = run_in(root, "-c", CHECK, stub)
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    assert lines[0] == "3 fixtures"
    # The stub yields nothing: every marker is missed, so the tests name the new rule until it is written.
    assert len(lines) == 5 and all(line.startswith(("pass/", "fail/", "unresolved/")) for line in lines[1:4]), lines
    assert lines[4] == "the clean base does not pass"
    lint = run_in(root, "-m", "ruff", "check", "--no-cache", "validator/rules/security.py")
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["AV101", "Taken"], "AV101 is taken by EngineIsAuroraPostgresql"),
        (["AV1O9", "Typo"], "is not a rule id"),
        (["AV509", "Live only"], "the scaffold writes rules checked on Terraform fixtures"),
        ([NEW, "x", "--argument", "no_such_argument"], "Cluster has no boolean attribute 'no_such_argument'"),
        ([NEW, "x", "--field", "storage_encrypted"], "--field needs --argument"),
        ([NEW, "Engine is aurora postgresql", "--class", "EngineIsAuroraPostgresql"], "exists already"),
        ([NEW, "x", "--doc-url", "https://example.com/"], "--doc-url must be an AWS documentation page"),
    ],
)
def test_usage_errors_are_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    root = checkout_copy(tmp_path)
    before = snapshot(root)
    assert scaffold.main([*argv, "--root", str(root)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and expected in err, err
    assert snapshot(root) == before


def test_dry_run_lists_the_files_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = checkout_copy(tmp_path)
    before = snapshot(root)
    note = free_id("4")
    assert scaffold.main([note, "A note holds", "--severity", "info", "--dry-run", "--root", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "would write validator/rules/notes.py" in out and "would write README.md" in out
    assert "would write features/cost_and_operations.feature" in out
    assert sum(line.startswith(f"would write tests/fixtures/rules/{note}/") for line in out) == 3
    assert snapshot(root) == before


def test_imports_are_added_in_place_and_sorted() -> None:
    source = (
        "from __future__ import annotations\n\n"
        "from validator import facts\n"
        "from validator.rules.base import Result, Rule\n"
        "from validator.rules.helpers import where\n"
    )
    out = scaffold.ensure_imports(
        source, {"validator.rules.base": ["ClusterRule", "Severity"], "validator.model": ["Cluster"]}
    )
    assert out == (
        "from __future__ import annotations\n\n"
        "from validator import facts\n"
        "from validator.model import Cluster\n"
        "from validator.rules.base import ClusterRule, Result, Rule, Severity\n"
        "from validator.rules.helpers import where\n"
    )
    assert scaffold.ensure_imports(out, {"validator.model": ["Cluster"]}) == out
