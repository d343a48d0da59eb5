"""Every rule carries complete metadata, and README.md's rules table matches the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator import docs, scaffold
from validator.rules import Severity, all_rules
from validator.sources import KINDS

README = Path(__file__).resolve().parent.parent / "README.md"
RULES = all_rules()


def test_catalogue_is_not_empty_and_ids_are_unique() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) >= 19
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata_is_complete(rule) -> None:
    assert re.fullmatch(r"AV\d{3}", rule.id)
    for name in ("title", "rationale", "risk", "fix"):
        value = getattr(rule, name)
        assert isinstance(value, str) and value.strip(), f"{rule.id}.{name} is empty"
    assert rule.doc_url.startswith("https://docs.aws.amazon.com/"), rule.doc_url
    assert isinstance(rule.severity, Severity)
    assert all(isinstance(s, Severity) for s in rule.profile_severity.values())
    assert rule.sources and rule.sources <= set(KINDS)
    assert "\n" not in rule.title
    for name in ("title", "rationale", "risk", "fix", "doc_url"):
        assert scaffold.PLACEHOLDER not in getattr(rule, name), f"{rule.id}.{name} is still the scaffold's placeholder"


@pytest.mark.parametrize("rule", [r for r in RULES if r.id[2] in "1234"], ids=lambda r: r.id)
def test_static_rule_fix_is_terraform(rule) -> None:
    """The AV1xx-AV4xx fixes are Terraform snippets (or a comment on what to remove)."""
    assert re.search(r'(resource|variable|terraform)\s*("[^"]+"\s*)*\{|^#', rule.fix), rule.fix
    assert rule.fix.count("{") == rule.fix.count("}"), rule.fix


def test_bedrock_rules_are_errors_in_the_bedrock_profile() -> None:
    for rule in RULES:
        if rule.id.startswith("AV2"):
            assert rule.severity is Severity.WARNING
            assert rule.severity_for("bedrock-kb") is Severity.ERROR
            assert rule.severity_for("default") is Severity.WARNING


def test_rules_table_lists_every_rule_once() -> None:
    table = docs.rules_table()
    for rule in RULES:
        assert table.count(f"| {rule.id} |") == 1
    av201 = next(line for line in table.splitlines() if line.startswith("| AV201 |"))
    assert "| warning (error in `bedrock-kb`) |" in av201


def test_render_replaces_only_the_marked_part() -> None:
    readme = f"intro\n{docs.START}\nold table\n{docs.END}\noutro\n"
    rendered = docs.render(readme, "| new |\n")
    assert rendered.startswith("intro\n") and rendered.endswith(f"{docs.END}\noutro\n")
    assert "old table" not in rendered and "| new |" in rendered
    assert docs.is_current(rendered, "| new |\n")
    with pytest.raises(docs.StaleError):
        docs.render("no markers here", "| new |\n")


def test_check_mode_exit_codes(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"x\n{docs.START}\nold\n{docs.END}\n", encoding="utf-8")
    assert docs.main(["--check", str(stale)]) == 1
    assert docs.main(["--write", str(stale)]) == 0
    assert docs.main(["--check", str(stale)]) == 0
    assert docs.main(["--check", str(tmp_path / "missing.md")]) == 2


def test_readme_rules_table_is_current() -> None:
    if not README.is_file():
        pytest.skip("README.md does not exist yet")
    text = README.read_text(encoding="utf-8")
    assert docs.is_current(text), "README.md is stale: run python -m validator.docs --write README.md"
