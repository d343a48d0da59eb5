"""Where a finding sits in AWS, for the security-finding formats (ASFF, OCSF).

A live finding carries its account, region and partition in the resource's ARN; a
finding that names its account (``Finding.account``, as an audit of several accounts
may set it) keeps it, and a deployment that names one (``Deployment.account``) gives it
to its findings without an ARN; a live finding with no ARN (a call refused in a region) takes the
account of the audit's other ARNs when they all name one. Static findings (HCL, plan) name a Terraform address, a file
and a line, and no account: the caller gives one (``account=``), else the
environment does (``AWS_ACCOUNT_ID`` and ``AWS_REGION``, as trivy's ASFF template
reads them), else the region of the configuration's AWS provider is used.

Each finding gets an identifier that stays the same from one scan to the next
(the rule, the root, the resource and its file), so importing a later scan
updates the finding instead of adding a copy. Results of one rule on the same
resource and file are told apart by their message (numbers left out).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from validator.baseline import normalise_message
from validator.errors import UsageError
from validator.findings import Finding, Report
from validator.model import Deployment
from validator.reporters.common import display_path, ordered, sort_key
from validator.reporters.sarif import FAMILY_TAGS, SECURITY_SEVERITY
from validator.rules import Status
from validator.sources import TERRAFORM_KINDS

ACCOUNT_ENV = "AWS_ACCOUNT_ID"
REGION_ENVS = ("AWS_REGION", "AWS_DEFAULT_REGION")
PRODUCT_NAME = "aurora-validate"
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_LINE_SUFFIX = re.compile(r":\d+$")
_INDEX = re.compile(r"\[[^\]]*\]")

# Terraform resource types and what AWS security-finding formats call them (the ASFF
# resource types of https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resources.html).
RESOURCE_TYPES: dict[str, str] = {
    "aws_rds_cluster": "AwsRdsDbCluster",
    "aws_rds_cluster_instance": "AwsRdsDbInstance",
    "aws_db_instance": "AwsRdsDbInstance",
    "aws_security_group": "AwsEc2SecurityGroup",
    "aws_vpc_security_group_ingress_rule": "AwsEc2SecurityGroup",
    "aws_security_group_rule": "AwsEc2SecurityGroup",
    "aws_subnet": "AwsEc2Subnet",
    "aws_vpc": "AwsEc2Vpc",
    "aws_secretsmanager_secret": "AwsSecretsManagerSecret",
    "aws_iam_role": "AwsIamRole",
    "aws_iam_policy": "AwsIamPolicy",
    "aws_kms_key": "AwsKmsKey",
}
# The same by ARN: (service, first part of the resource).
ARN_TYPES: dict[tuple[str, str], str] = {
    ("rds", "cluster"): "AwsRdsDbCluster",
    ("rds", "db"): "AwsRdsDbInstance",
    ("ec2", "security-group"): "AwsEc2SecurityGroup",
    ("ec2", "subnet"): "AwsEc2Subnet",
    ("ec2", "vpc"): "AwsEc2Vpc",
    ("secretsmanager", "secret"): "AwsSecretsManagerSecret",
    ("iam", "role"): "AwsIamRole",
    ("iam", "policy"): "AwsIamPolicy",
    ("kms", "key"): "AwsKmsKey",
}
OTHER = "Other"

# Severity labels (ASFF Severity.Label; OCSF severity_id captions) from the rule's family and
# its severity in the profile, through the score bands of the SARIF security-severity table
# (critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9): one ranking for every format.
LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_kind(self) -> str:
        """ "cluster:kb-store" -> "cluster"; "security-group/sg-1" -> "security-group"."""
        return re.split(r"[:/]", self.resource, maxsplit=1)[0]


@functools.lru_cache(maxsize=8192)
def parse_arn(text: str | None) -> Arn | None:
    """The parts of ``arn:partition:service:region:account:resource``; None for anything else."""
    if not text or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Placement:
    """One finding's account, region and resource, as the security-finding formats name them."""

    account: str | None
    region: str | None
    partition: str
    resource_id: str  # the ARN, else the Terraform address (or database object)
    resource_type: str  # an ASFF resource type, or "Other"
    arn: str | None
    kind: str  # the source kind: hcl, plan, live, database
    root: str
    address: str | None  # the Terraform address (static sources)
    terraform_type: str | None  # e.g. aws_rds_cluster
    file: str | None  # as seen from the current directory (root/file)
    line: int | None


def terraform_type(address: str) -> str | None:
    """ "module.db.aws_rds_cluster.this["a"]" -> "aws_rds_cluster"; None for no resource address."""
    parts = _INDEX.sub("", address).split(".")
    while len(parts) >= 2 and parts[0] == "module":
        parts = parts[2:]
    if parts and parts[0] == "data":
        parts = parts[1:]
    if len(parts) >= 2 and re.fullmatch(r"[a-z][a-z0-9_]*", parts[0]):
        return parts[0]
    return None


class Placer:
    """Places the findings of one report; ``account`` and ``region`` fill in what a finding lacks."""

    def __init__(
        self,
        report: Report,
        account: str | None = None,
        region: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.account = account or env.get(ACCOUNT_ENV) or None
        self.region = region or next((env[name] for name in REGION_ENVS if env.get(name)), None)
        if self.account is not None and not _ACCOUNT.match(self.account):
            given = "account" if account else ACCOUNT_ENV
            raise UsageError(f"{given} {self.account!r} is not an AWS account id (12 digits)")
        if self.region is not None and not _REGION.match(self.region):
            raise UsageError(f"region {self.region!r} is not an AWS region name (e.g. us-east-1)")
        self.deployments: dict[str, Deployment] = {d.root: d for d in report.deployments}
        # A live finding with no ARN of its own (a refused call in a region) belongs to the account
        # the audit read, when every ARN of the report names the same one.
        seen = {
            arn.account
            for f in report.findings
            for arn in (parse_arn(t) for t in (f.result.location.arn, f.result.resource, f.root))
            if arn is not None and arn.account
        }
        seen |= {a.account for d in report.deployments if (a := parse_arn(d.root)) is not None and a.account}
        self.audit_account = next(iter(seen)) if len(seen) == 1 else None

    def _provider_region(self, root: str) -> str | None:
        dep = self.deployments.get(root)
        if dep is None or dep.provider is None or not dep.provider.region.known:
            return None
        value = dep.provider.region.value
        return value if isinstance(value, str) and _REGION.match(value) else None

    def place(self, f: Finding) -> Placement:
        loc = f.result.location
        arn = next((a for a in map(parse_arn, (loc.arn, f.result.resource, f.root)) if a is not None), None)
        dep = self.deployments.get(f.root)
        kind = dep.kind if dep is not None else ("live" if arn else "hcl")
        own = getattr(f, "account", None)  # a finding of a multi-account audit names its account
        account = own if isinstance(own, str) and own else (arn.account if arn and arn.account else None)
        if account is None and dep is not None:  # a deployment of a multi-account audit may name it
            named = getattr(dep, "account", None)
            account = named if isinstance(named, str) and named else None
        if account is None and kind == "live":
            account = self.audit_account
        account = account or self.account
        region = (arn.region if arn and arn.region else None) or self.region or self._provider_region(f.root)
        partition = arn.partition if arn else partition_of(region or "")
        resource_id, resource_type, address, tf_type = self._resource(f, kind, account, region, partition)
        return Placement(
            account=account,
            region=region,
            partition=partition,
            resource_id=resource_id,
            resource_type=resource_type,
            arn=resource_id if parse_arn(resource_id) else None,
            kind=kind,
            root=f.root,
            address=address,
            terraform_type=tf_type,
            file=display_path(f.root, loc.file) if loc.file else None,
            line=loc.line if loc.file and loc.line else None,
        )

    @staticmethod
    def _resource(
        f: Finding, kind: str, account: str | None, region: str | None, partition: str
    ) -> tuple[str, str, str | None, str | None]:
        """(id, type, Terraform address, Terraform type) of the finding's resource."""
        resource = f.result.resource
        own_arn = parse_arn(resource)
        if own_arn is not None:
            return resource, ARN_TYPES.get((own_arn.service, own_arn.resource_kind), OTHER), None, None
        if kind in TERRAFORM_KINDS:
            address = _LINE_SUFFIX.sub("", resource) or f.root or "?"
            tf_type = terraform_type(address)
            return address, RESOURCE_TYPES.get(tf_type or "", OTHER), address, tf_type
        if resource.startswith("sg-"):  # a live security group: EC2 names it by id
            if account and region:
                return (
                    f"arn:{partition}:ec2:{region}:{account}:security-group/{resource}",
                    "AwsEc2SecurityGroup",
                    None,
                    None,
                )
            return resource, "AwsEc2SecurityGroup", None, None
        where = parse_arn(f.result.location.arn)
        if where is not None and f.result.location.arn:
            return f.result.location.arn, ARN_TYPES.get((where.service, where.resource_kind), OTHER), None, None
        return resource or f.root or "?", OTHER, None, None


def findings_of(report: Report, show_passed: bool) -> list[Finding]:
    """Active findings (passes with ``show_passed``), then the suppressed ones."""
    suppressed = [f for f in report.suppressed() if f.status is not Status.PASS or show_passed]
    return ordered(report, show_passed) + sorted(suppressed, key=sort_key)


def finding_ids(findings: list[Finding], placements: list[Placement]) -> list[str]:
    """A stable identifier per finding: the rule, root, resource and file; the message too when
    one rule reports the same resource and file more than once."""

    def key(f: Finding, p: Placement) -> tuple[str, ...]:
        return (f.rule_id, p.root, p.resource_id, p.file or "")

    counts: dict[tuple[str, ...], int] = {}
    for f, p in zip(findings, placements, strict=True):
        counts[key(f, p)] = counts.get(key(f, p), 0) + 1
    out: list[str] = []
    for f, p in zip(findings, placements, strict=True):
        parts = key(f, p)
        if counts[parts] > 1:
            parts = (*parts, normalise_message(f.result.message))
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
        out.append(f"{PRODUCT_NAME}/{p.account or 'no-account'}/{p.region or 'no-region'}/{f.rule_id}/{digest}")
    return out


def placed(report: Report, show_passed: bool, placer: Placer) -> list[tuple[Finding, Placement, str]]:
    """The findings a finding format writes, each with its placement and stable identifier."""
    chosen = findings_of(report, show_passed)
    placements = [placer.place(f) for f in chosen]
    return list(zip(chosen, placements, finding_ids(chosen, placements), strict=True))


def label(f: Finding, profile: str) -> str:
    """The severity label of a finding: INFORMATIONAL for a pass, else from its family and severity."""
    if f.status is Status.PASS:
        return "INFORMATIONAL"
    family = _family(f.rule_id)
    table = SECURITY_SEVERITY["security" if family == "3" else "note" if family == "4" else "other"]
    score = float(table[f.severity])
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    return "LOW" if score > 0 else "INFORMATIONAL"


def _family(rule_id: str) -> str:
    """The hundreds digit of a rule id: "AV301" -> "3"."""
    digits = rule_id[2:]
    return digits[0] if len(digits) == 3 and digits.isdigit() else ""


def family_title(rule_id: str) -> str:
    """The rule family as words, for finding types: "AV301" -> "Security"."""
    tag = FAMILY_TAGS.get(_family(rule_id), "")
    words = {
        "suppressions": "Suppressions",
        "serverless-v2": "Aurora Serverless v2",
        "bedrock-knowledge-base": "Bedrock Knowledge Base",
        "security": "Security",
        "cost": "Cost",
        "live": "Deployed State",
        "database": "Database",
    }
    return words.get(tag, "Configuration")


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
