"""checkov custom policies (YAML) for the rules that checkov's attribute checks can express.

``aurora-validate export checkov DIR`` writes one file per policy, for
``checkov -d TERRAFORM --external-checks-dir DIR``. A policy checks one
attribute of one resource type, as the rule does, and fails the same resources
(the test suite runs checkov on the reference, the article's configuration
and the hardened variant and compares, resource by resource). Where a rule does
more than one attribute check, the policy covers that attribute check and its
``note`` says what it leaves out.

The other rules cannot be written as checkov attribute policies:

* AV104, AV107 and AV402 compare the engine version with version tables
  (Serverless v2 ranges, pgvector, auto-pause), which checkov has no data for;
* AV105 counts the distinct Availability Zones of the subnets in the subnet
  group, across resources;
* AV202 and AV203 follow the knowledge base to the cluster and its secret;
* AV301 and AV401 need the database port and the security groups the cluster
  uses, and compare port ranges with it;
* AV302 needs the provenance of the password (a literal, a variable default or
  a tfvars entry against a generated or fetched value), which checkov does not keep;
* AV404 reads the provider version constraint, not a resource;
* AV001 reads comments; AV002 reads which module calls the scan could read;
* AV5xx and AV6xx read live AWS state and the database, not Terraform.

Policy ids are ``CKV2_AURORA_<rule number>``; AV108, which checks three
resource types, becomes three policies, ``CKV2_AURORA_1081`` to ``1083``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator import facts
from validator.rules import Rule, Severity, all_rules, get_rule
from validator.sources import TERRAFORM_KINDS

ID_PREFIX = "CKV2_AURORA_"
CHECKOV_SEVERITY = {Severity.ERROR: "HIGH", Severity.WARNING: "MEDIUM", Severity.INFO: "LOW"}

# The provider's identifier validation as one regular expression (re.match, as checkov applies it):
# a lowercase letter, then lowercase letters, digits and single hyphens, no trailing hyphen.
IDENTIFIER_REGEX = rf"^(?!.*--)[a-z][a-z0-9-]{{0,{facts.IDENTIFIER_MAX_LENGTH - 1}}}$(?<!-)"
SUBNET_GROUP_REGEX = rf"^(?!default$)[0-9a-z_. -]{{1,{facts.SUBNET_GROUP_NAME_MAX_LENGTH}}}$"


def _attr(resource_type: str, attribute: str, operator: str, value: Any = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "cond_type": "attribute",
        "resource_types": [resource_type],
        "attribute": attribute,
        "operator": operator,
    }
    if value is not None:
        block["value"] = value
    return block


def _absent_or(resource_type: str, attribute: str, operator: str, value: Any) -> dict[str, Any]:
    """The attribute is left out (the provider default applies) or satisfies the condition."""
    return {
        "or": [
            _attr(resource_type, attribute, "not_exists"),
            _attr(resource_type, attribute, operator, value),
        ]
    }


@dataclass(frozen=True)
class Policy:
    """One checkov policy for (part of) one rule."""

    rule_id: str
    policy_id: str
    resource_type: str
    category: str
    definition: dict[str, Any]
    note: str = ""  # what the rule checks beyond this policy
    suffix: str = ""  # which part of the rule, when it has several policies

    @property
    def rule(self) -> Rule:
        rule = get_rule(self.rule_id)
        if rule is None:
            raise KeyError(self.rule_id)
        return rule


CLUSTER = "aws_rds_cluster"
INSTANCE = "aws_rds_cluster_instance"
SUBNET_GROUP = "aws_db_subnet_group"

POLICIES: tuple[Policy, ...] = (
    Policy(
        "AV101",
        f"{ID_PREFIX}101",
        CLUSTER,
        "GENERAL_SECURITY",
        _attr(CLUSTER, "engine", "equals", facts.ENGINE),
    ),
    Policy(
        "AV102",
        f"{ID_PREFIX}102",
        CLUSTER,
        "GENERAL_SECURITY",
        _absent_or(CLUSTER, "engine_mode", "equals", facts.ENGINE_MODE),
    ),
    Policy(
        "AV103",
        f"{ID_PREFIX}103",
        INSTANCE,
        "GENERAL_SECURITY",
        _attr(INSTANCE, "instance_class", "equals", facts.SERVERLESS_INSTANCE_CLASS),
        note="checks each instance's class; that the cluster has an instance at all is not checked",
    ),
    Policy(
        "AV106",
        f"{ID_PREFIX}106",
        CLUSTER,
        "IAM",
        _attr(CLUSTER, "iam_database_authentication_enabled", "equals", True),
    ),
    Policy(
        "AV108",
        f"{ID_PREFIX}1081",
        CLUSTER,
        "CONVENTION",
        _absent_or(CLUSTER, "cluster_identifier", "regex_match", IDENTIFIER_REGEX),
        suffix="cluster_identifier",
    ),
    Policy(
        "AV108",
        f"{ID_PREFIX}1082",
        INSTANCE,
        "CONVENTION",
        _absent_or(INSTANCE, "identifier", "regex_match", IDENTIFIER_REGEX),
        suffix="identifier",
    ),
    Policy(
        "AV108",
        f"{ID_PREFIX}1083",
        SUBNET_GROUP,
        "CONVENTION",
        _absent_or(SUBNET_GROUP, "name", "regex_match", SUBNET_GROUP_REGEX),
        suffix="name",
    ),
    Policy(
        "AV201",
        f"{ID_PREFIX}201",
        CLUSTER,
        "GENERAL_SECURITY",
        _attr(CLUSTER, "enable_http_endpoint", "equals", True),
        note="checks the argument; whether the engine version has the Data API is not checked",
    ),
    Policy(
        "AV303",
        f"{ID_PREFIX}303",
        INSTANCE,
        "NETWORKING",
        _absent_or(INSTANCE, "publicly_accessible", "equals", False),
    ),
    Policy(
        "AV304",
        f"{ID_PREFIX}304",
        CLUSTER,
        "ENCRYPTION",
        _attr(CLUSTER, "storage_encrypted", "equals", True),
    ),
    Policy(
        "AV403",
        f"{ID_PREFIX}403",
        CLUSTER,
        "BACKUP_AND_RECOVERY",
        {
            "or": [
                _attr(CLUSTER, "skip_final_snapshot", "equals", True),
                _attr(CLUSTER, "final_snapshot_identifier", "exists"),
            ]
        },
    ),
)

NOT_EXPRESSIBLE: dict[str, str] = {
    "AV001": "reads suppression comments, which checkov does not see",
    "AV002": "reports module calls the scan could not read, which is about the scan, not a resource",
    "AV104": "compares the capacity range with the engine version's limits (a version table)",
    "AV105": "counts the distinct Availability Zones of the subnet group's subnets, across resources",
    "AV107": "looks the engine version up in version tables (Serverless v2, pgvector)",
    "AV202": "follows the knowledge base to the cluster and its Secrets Manager secret, across resources",
    "AV203": "follows the knowledge base's resource_arn to the cluster and compares its field mapping",
    "AV204": "evaluates IAM policies of the role role_arn names (inline, attached, managed, policy documents) "
    "against the cluster, secret and model ARNs, across resources",
    "AV301": "needs the cluster's port and the security groups it uses, and compares port ranges with it",
    "AV302": "needs where the password comes from (a literal, a variable default, a tfvars entry)",
    "AV401": "needs the security groups the cluster uses and compares port ranges, across resources",
    "AV402": "prices the capacity floor and looks up auto-pause support in a version table",
    "AV404": "reads the provider version constraint, not a resource",
}


def unexpressible() -> dict[str, str]:
    """Every catalogue rule without a policy, with the reason."""
    exported = {p.rule_id for p in POLICIES}
    out: dict[str, str] = {}
    for rule in all_rules():
        if rule.id in exported:
            continue
        if rule.id in NOT_EXPRESSIBLE:
            out[rule.id] = NOT_EXPRESSIBLE[rule.id]
        elif not rule.sources & TERRAFORM_KINDS:
            kinds = " and ".join(sorted(rule.sources))
            out[rule.id] = f"reads {kinds} state, not Terraform"
        else:
            out[rule.id] = "not expressible as checkov attribute checks"
    return out


def policy_document(policy: Policy) -> dict[str, Any]:
    rule = policy.rule
    name = rule.title if not policy.suffix else f"{rule.title} ({policy.resource_type}.{policy.suffix})"
    metadata: dict[str, Any] = {
        "id": policy.policy_id,
        "name": f"{rule.id}: {name}",
        "category": policy.category,
        "severity": CHECKOV_SEVERITY[rule.severity],
        "guideline": rule.doc_url,
    }
    return {
        "metadata": metadata,
        "scope": {"provider": "aws"},
        "definition": policy.definition,
    }


def _scalar(value: Any) -> str:
    """A YAML scalar: JSON strings are valid double-quoted YAML; booleans and numbers as such."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (all this exporter writes)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            elif isinstance(item, list) and item:
                lines.append(f"{pad}-")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return "\n".join(lines)


def header(policy: Policy) -> str:
    rule = policy.rule
    lines = [
        f"# {rule.id}: {rule.title}",
        "# Written by `aurora-validate export checkov`; run aurora-validate for the full rule.",
    ]
    if policy.note:
        lines.append(f"# This policy {policy.note}.")
    return "\n".join(lines) + "\n"


def export(directory: Path) -> list[Path]:
    """Write every policy into ``directory`` (created when missing); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for policy in POLICIES:
        path = directory / f"{policy.policy_id}.yaml"
        path.write_text(header(policy) + to_yaml(policy_document(policy)) + "\n", encoding="utf-8")
        written.append(path)
    return written
