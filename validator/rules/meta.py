"""AV0xx: rules about the configuration of the checks themselves."""

from __future__ import annotations

from collections.abc import Iterator

from validator.model import Deployment, Location
from validator.rules.base import Result, Rule, Severity


class MalformedSuppression(Rule):
    id = "AV001"
    title = "Inline suppressions name a known rule and give a reason"
    severity = Severity.WARNING
    rationale = (
        "A suppression hides a finding from every later reader. Without a reason nobody can tell whether "
        "the risk was accepted or the finding was silenced; a misspelt rule id suppresses nothing."
    )
    risk = "Accepted risks go undocumented, and typos leave findings active while looking suppressed."
    doc_url = "https://docs.aws.amazon.com/prescriptive-guidance/latest/terraform-aws-provider-best-practices/security.html"
    fix = "# aurora-validate:ignore=AV301 dev VPC only, reached through the office VPN"
    sources = frozenset({"hcl", "plan"})

    def check(self, deployment: Deployment) -> Iterator[Result]:
        from validator.rules import get_rule

        for (file, line), items in sorted(deployment.suppressions.items()):
            where = Location(file=file, line=line)
            for rule_id, reason in items:
                if get_rule(rule_id) is None or rule_id == self.id:
                    yield self.failed(f"{file}:{line}", f"suppression names unknown rule {rule_id}", where)
                elif not reason.strip():
                    yield self.failed(
                        f"{file}:{line}", f"suppression of {rule_id} gives no reason; write one after the id", where
                    )
                else:
                    yield self.passed(f"{file}:{line}", f"{rule_id} suppressed: {reason}", where)
