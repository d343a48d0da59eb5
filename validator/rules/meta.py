"""AV0xx: rules about the checks themselves: suppressions, and what the scan could read."""

from __future__ import annotations

from collections.abc import Iterator

from validator.model import Deployment, Location
from validator.rules import get_rule
from validator.rules.base import Result, Rule, Severity, Status
from validator.sources import TERRAFORM_KINDS


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
    sources = TERRAFORM_KINDS

    def check(self, deployment: Deployment) -> Iterator[Result]:
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


class ModuleCallsRead(Rule):
    id = "AV002"
    title = "Every module call is read"
    severity = Severity.WARNING
    rationale = (
        "A module whose source is neither a local path nor installed under .terraform/modules (a registry, "
        "Git or S3 module before terraform init) cannot be read, so nothing it declares is checked: a root "
        "whose only cluster is in such a module would otherwise report no finding at all."
    )
    risk = "A clean report although the resources the module declares were never checked."
    doc_url = "https://docs.aws.amazon.com/prescriptive-guidance/latest/terraform-aws-provider-best-practices/community.html"
    fix = (
        "# Install the modules without touching any state, then scan again:\n"
        "terraform init -backend=false\n"
        "# or scan the plan, which holds every module expanded:\n"
        "terraform plan -out plan.bin && terraform show -json plan.bin > plan.json\n"
        "aurora-validate --plan plan.json ."
    )
    # A plan holds every module already expanded: nothing there is unread.
    sources = frozenset({"hcl"})
    # Its findings are unresolved or passes: a module that cannot be read is not a defect of the configuration.
    can_fail = False

    def check(self, deployment: Deployment) -> Iterator[Result]:
        for call in deployment.module_calls:
            version = f" version {call.version!r}" if call.version else ""
            if call.unread:
                yield Result(
                    Status.UNRESOLVED,
                    f"{call.address} (source {call.source!r}{version}) is not read: {call.unread}; run "
                    "`terraform init -backend=false` (it downloads modules without touching state) and scan "
                    "again, or scan the plan JSON (--plan)",
                    call.address,
                    call.origin,
                )
            elif call.installed_at:
                yield self.passed(
                    call.address,
                    f"{call.address} (source {call.source!r}{version}) is read from {call.installed_at}",
                    call.origin,
                )
