"""``aurora-validate rules`` and ``aurora-validate explain ID``: the catalogue, from the code."""

from __future__ import annotations

import argparse
import json
import sys

from validator.errors import UsageError
from validator.rules import Rule, all_rules, get_rule


def rule_dict(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.value,
        "profile_severity": {k: v.value for k, v in rule.profile_severity.items()},
        "sources": sorted(rule.sources),
        "rationale": rule.rationale,
        "risk": rule.risk,
        "doc_url": rule.doc_url,
        "fix": rule.fix,
    }


def main(command: str, argv: list[str]) -> int:
    if command == "rules":
        parser = argparse.ArgumentParser(prog="aurora-validate rules", description="List the rule catalogue.")
        parser.add_argument("--format", "-f", choices=("text", "json"), default="text")
        args = parser.parse_args(argv)
        rules = all_rules()
        if args.format == "json":
            sys.stdout.write(json.dumps([rule_dict(r) for r in rules], indent=2) + "\n")
        else:
            for r in rules:
                extra = "".join(f" ({p}: {s.value})" for p, s in r.profile_severity.items())
                sys.stdout.write(f"{r.id}  {r.severity.value:<7}  {r.title}{extra}\n")
        return 0
    parser = argparse.ArgumentParser(prog="aurora-validate explain", description="Explain one rule.")
    parser.add_argument("rule_id", metavar="ID")
    parser.add_argument("--format", "-f", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    rule = get_rule(args.rule_id)
    if rule is None:
        raise UsageError(f"unknown rule {args.rule_id!r} (see: aurora-validate rules)")
    if args.format == "json":
        sys.stdout.write(json.dumps(rule_dict(rule), indent=2) + "\n")
        return 0
    overrides = "".join(f", {s.value} with --ruleset {p}" for p, s in rule.profile_severity.items())
    severity = rule.severity.value + overrides
    sys.stdout.write(
        f"{rule.id}: {rule.title}\n"
        f"severity: {severity}\n"
        f"checks: {', '.join(sorted(rule.sources))}\n\n"
        f"Why: {rule.rationale}\n"
        + (f"Risk: {rule.risk}\n" if rule.risk else "")
        + f"\nAWS documentation: {rule.doc_url}\n\nFix:\n{_indent(rule.fix)}\n"
    )
    return 0


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.strip("\n").splitlines())
