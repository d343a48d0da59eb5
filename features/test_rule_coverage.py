"""Every rule of the catalogue fails in at least one scenario and passes in another."""

from __future__ import annotations

import re
from pathlib import Path

from validator.rules import all_rules

FEATURES = Path(__file__).resolve().parent
STEP = re.compile(r"^\s*(?:Then|And|But)\s+rule (AV\d{3}) (fails|passes|is unresolved)\b")


def outcomes() -> dict[str, set[str]]:
    """Rule id -> the outcomes the scenarios assert for it ("fails", "passes")."""
    found: dict[str, set[str]] = {}
    for path in sorted(FEATURES.glob("*.feature")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = STEP.match(line)
            if m:
                found.setdefault(m.group(1), set()).add(m.group(2))
    return found


def test_every_rule_fails_in_one_scenario_and_passes_in_another() -> None:
    """A rule that never fails (its findings are passes or unresolved) shows its unresolved side instead."""
    found = outcomes()
    missing = {}
    for rule in all_rules():
        wanted = {"fails" if rule.can_fail else "is unresolved", "passes"}
        if not wanted <= found.get(rule.id, set()):
            missing[rule.id] = sorted(wanted - found.get(rule.id, set()))
    assert not missing, f"scenarios missing for: {missing}"


def test_scenarios_name_only_rules_that_exist() -> None:
    known = {rule.id for rule in all_rules()}
    assert set(outcomes()) <= known, set(outcomes()) - known


def test_the_scan_reads_the_steps() -> None:
    """The pattern matches the step wording the plugin defines (a typo would make the scan vacuous)."""
    assert STEP.match("    Then rule AV102 fails with severity error")
    assert STEP.match("    And rule AV301 passes")
    assert not STEP.match("    # rule AV102 fails")
    assert len(outcomes()) >= 20
