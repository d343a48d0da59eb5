"""The rules that read Terraform, on small root modules (tests/fixtures/rules/AVxxx/{pass,fail,unresolved}).

Each fixture marks the expected result on its line: ``# expect: AV104 fail``. Which rules
need which fixtures comes from the catalogue itself, so a new rule without them fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rulekit import FIXTURES, describe, expectations, fixture_cases, of_rule, scan

from validator.engine import Finding
from validator.rules import Rule, Status, all_rules
from validator.rules.base import ClusterRule

# Rules checked on Terraform fixtures: every rule that reads HCL.
STATIC_RULES = [rule for rule in all_rules() if "hcl" in rule.sources]
# Rules that read no value a variable could supply, so nothing of theirs can be unresolved by one.
NO_VARIABLE_INPUT = {
    "AV001": "suppressions are comments",
    "AV404": "the provider constraint is always a literal",
}

CASES = fixture_cases()


def _id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def _at(finding: Finding, file: str, line: int) -> bool:
    return finding.result.location.file == file and finding.result.location.line == line


def required_kinds(rule: Rule) -> set[str]:
    """The fixture folders a rule needs: it passes on one, fails (or, if it cannot fail, is unresolved) on another."""
    kinds = {"pass", "fail" if rule.can_fail else "unresolved"}
    if rule.id not in NO_VARIABLE_INPUT:
        kinds.add("unresolved")
    return kinds


def test_every_rule_has_pass_fail_and_unresolved_fixtures() -> None:
    kinds: dict[str, set[str]] = {}
    for path in CASES:
        kinds.setdefault(path.parent.parent.name, set()).add(path.parent.name)
    missing = {
        rule.id: sorted(required_kinds(rule) - kinds.get(rule.id, set()))
        for rule in STATIC_RULES
        if not required_kinds(rule) <= kinds.get(rule.id, set())
    }
    assert not missing, f"fixtures missing under {FIXTURES}: {missing}"


def test_fixture_folders_name_rules_of_the_catalogue() -> None:
    """A folder with a misspelt id (or a removed rule's) would otherwise be checked against nothing."""
    known = {rule.id for rule in STATIC_RULES}
    folders = {path.parent.parent.name for path in CASES}
    assert folders <= known, sorted(folders - known)
    assert set(NO_VARIABLE_INPUT) <= known, sorted(set(NO_VARIABLE_INPUT) - known)


def test_the_coverage_check_reads_the_catalogue() -> None:
    """The derived list is the catalogue's, not empty and not a copy: it names rules of every static family."""
    ids = {rule.id for rule in STATIC_RULES}
    assert {"AV001", "AV101", "AV201", "AV301", "AV401"} <= ids
    assert not any(rule.id.startswith(("AV5", "AV6")) for rule in STATIC_RULES)  # live and database rules
    assert required_kinds(next(r for r in STATIC_RULES if not r.can_fail)) == {"pass", "unresolved"}


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fixture(path: Path) -> None:
    rule_id, kind = path.parent.parent.name, path.parent.name
    marks = [e for e in expectations(path) if e.rule_id == rule_id]
    assert marks, f"{path} has no '# expect: {rule_id} ...' marker"
    assert all(e.status == kind for e in marks), f"{path}: markers disagree with the folder {kind}"

    findings = of_rule(scan(path), rule_id)
    dump = describe(findings)
    for e in marks:
        hits = [f for f in findings if f.status.value == e.status and _at(f, e.file, e.line)]
        assert hits, f"expected {e.rule_id} {e.status} at {e.file}:{e.line}; got:\n{dump}"
    statuses = {f.status for f in findings}
    if kind == "pass":
        assert statuses == {Status.PASS}, f"a pass fixture must yield only passes:\n{dump}"
    elif kind == "unresolved":
        assert Status.FAIL not in statuses, f"an unknown value must never fail:\n{dump}"


def test_pass_base_is_clean_for_every_static_rule() -> None:
    """The reference fixture passes every static rule: nothing fails, nothing is unresolved.

    Every rule checked per cluster has something to check in it; the others look at knowledge
    bases, suppressions and module calls, which it has none of.
    """
    base = FIXTURES / "AV101" / "pass" / "aurora_postgresql.tf"
    static = {rule.id for rule in STATIC_RULES}
    findings = [f for f in scan(base) if f.rule_id in static]
    per_cluster = {rule.id for rule in STATIC_RULES if isinstance(rule, ClusterRule)}
    assert {f.rule_id for f in findings} == per_cluster
    assert all(f.status is Status.PASS for f in findings), describe(findings)


def test_messages_never_show_the_password() -> None:
    for path in fixture_cases("AV302"):
        for f in scan(path):
            assert "tiger111" not in f.result.message, f"{path}: {f.result.message}"


def test_an_evaluation_error_never_quotes_the_password(tmp_path: Path) -> None:
    """The reason a master_password is unknown must not quote the value it failed on."""
    (tmp_path / "main.tf").write_text(
        'variable "pw" {\n  default = "tiger111secret"\n}\n\n'
        'resource "aws_rds_cluster" "kb" {\n  engine          = "aurora-postgresql"\n'
        "  master_password = tonumber(var.pw)\n}\n",
        encoding="utf-8",
    )
    findings = of_rule(scan(tmp_path), "AV302")
    assert [(f.status, f.result.location.line) for f in findings] == [(Status.UNRESOLVED, 7)], describe(findings)
    assert "tiger111" not in findings[0].result.message
    assert "line 7" in findings[0].result.message


def test_av401_pass_does_not_deny_an_all_ports_rule() -> None:
    """Every port open (AV301's fixture) admits 443 too; AV401 passes, but must not say 443 is closed."""
    findings = of_rule(scan(FIXTURES / "AV301" / "fail" / "all_traffic_ipv6.tf"), "AV401")
    assert [f.status for f in findings] == [Status.PASS], describe(findings)
    assert "no ingress to port 443" not in findings[0].result.message
    assert "port 443 only together with the database port 5432" in findings[0].result.message


def test_bedrock_profile_raises_kb_rules_to_error() -> None:
    path = FIXTURES / "AV201" / "fail" / "left_out.tf"
    default = {f.rule_id: f.severity.value for f in of_rule(scan(path), "AV201")}
    kb = {f.rule_id: f.severity.value for f in of_rule(scan(path, profile="bedrock-kb"), "AV201")}
    assert default == {"AV201": "warning"}
    assert kb == {"AV201": "error"}


def test_av108_article_prefix_names_the_variable_default() -> None:
    findings = of_rule(scan(FIXTURES / "AV108" / "fail" / "underscore_prefix.tf"), "AV108")
    failed = [f for f in findings if f.status is Status.FAIL]
    assert len(failed) == 1
    assert "'project_name-dev-aurora'" in failed[0].result.message
    assert "terraform plan would fail" in failed[0].result.message


def test_av402_quotes_the_monthly_floor() -> None:
    findings = of_rule(scan(FIXTURES / "AV402" / "fail" / "half_acu_floor.tf"), "AV402")
    assert [f.status for f in findings] == [Status.FAIL]
    message = findings[0].result.message
    assert "$43.80" in message and "us-east-1" in message and "supports auto-pause" in message
