"""AWS Security Finding Format (ASFF) for AWS Security Hub.

The report is a JSON array of findings, each what ``securityhub:BatchImportFindings``
takes (the tests validate every one with botocore's own parameter validator against
that operation's input shape). ``aurora-validate export securityhub FILE`` imports
the file; ``aws securityhub batch-import-findings --findings file://FILE`` does too
(100 findings per call at most).

Choices:

* ``ProductArn`` is the account's own product for custom findings,
  ``arn:<partition>:securityhub:<region>:<account>:product/<account>/default``;
  ``ProductName`` is aurora-validate, ``GeneratorId`` the rule id.
* Account and region come from the resource's ARN (live audits), else from the
  finding's own account (audits of several accounts), else from the caller:
  ``AWS_ACCOUNT_ID`` and ``AWS_REGION`` for static scans (HCL, plan), as trivy's
  ASFF template reads them; the region of the Terraform AWS provider is the last
  resort. A finding with no account is a one-line error (exit 2): Security Hub
  rejects a finding without one.
* ``Compliance.Status``: a pass is ``PASSED``, a failure ``FAILED``, an
  unresolved check ``NOT_AVAILABLE`` (the check could not reach a verdict; the
  reason is in ``Description``). ``WARNING`` is not used: an unresolved result is
  never a softer failure.
* ``Severity.Label`` ranks as SARIF's security-severity does (security rules
  highest, learning and cost notes lowest): CRITICAL >= 9.0, HIGH >= 7.0,
  MEDIUM >= 4.0, else LOW; a pass is INFORMATIONAL. ``Severity.Original`` is
  our severity in the profile.
* ``Resources``: an ARN when there is one (``AwsRdsDbCluster``,
  ``AwsEc2SecurityGroup`` ...); a static finding names the Terraform address,
  with the root, file and line in ``Details.Other`` and ``ProductFields``.
* ``Id`` stays the same from scan to scan (see ``placement``), so a later import
  updates the finding; scan with ``--show-passed`` so fixed checks turn PASSED.
* Suppressed findings are included with ``Workflow.Status: SUPPRESSED`` and
  what suppressed them in ``ProductFields``; passed checks with ``--show-passed``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from validator import __version__
from validator.errors import UsageError
from validator.findings import Finding, Report
from validator.reporters.placement import (
    ACCOUNT_ENV,
    PRODUCT_NAME,
    Placement,
    Placer,
    family_title,
    label,
    placed,
    truncate,
)
from validator.rules import Status

SCHEMA_VERSION = "2018-10-08"
COMPLIANCE = {Status.PASS: "PASSED", Status.FAIL: "FAILED", Status.UNRESOLVED: "NOT_AVAILABLE"}
# BatchImportFindings' documented lengths (API_AwsSecurityFinding): Title 256,
# Description 1024, Recommendation.Text 512; ProductFields at most 50 pairs.
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
RECOMMENDATION_MAX = 512
FIELD_PREFIX = f"{PRODUCT_NAME}/"


def timestamp(now: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Security Hub writes it: 2026-01-02T03:04:05.678Z."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _resource(p: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": p.resource_type, "Id": p.resource_id, "Partition": p.partition}
    if p.region:
        out["Region"] = p.region
    other: dict[str, str] = {}
    if p.address:
        other["TerraformAddress"] = p.address
        other["TerraformRoot"] = p.root
    if p.terraform_type:
        other["TerraformType"] = p.terraform_type
    if p.file:
        other["File"] = p.file
    if p.line:
        other["Line"] = str(p.line)
    if other:
        out["Details"] = {"Other": other}
    return out


def _product_fields(f: Finding, p: Placement, profile: str) -> dict[str, str]:
    fields = {
        "RuleId": f.rule_id,
        "Status": f.status.value,
        "Severity": f.severity.value,
        "Profile": profile,
        "Source": p.kind,
        "Root": p.root,
        "Version": __version__,
    }
    if p.file:
        fields["File"] = p.file
    if p.line:
        fields["Line"] = str(p.line)
    api_call = f.result.location.api_call
    if api_call:
        fields["ApiCall"] = api_call
    if f.suppressed_by:
        fields["SuppressedBy"] = truncate(f.suppressed_by, 2048)
    return {FIELD_PREFIX + key: value for key, value in fields.items()}


def finding(f: Finding, p: Placement, finding_id: str, profile: str, now: str) -> dict[str, Any]:
    """One ASFF finding (``p`` has an account and a region)."""
    account, region = p.account or "", p.region or ""
    rule = f.rule
    fix = f"{rule.title}. Terraform fix:\n{rule.fix}"
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id,
        "ProductArn": f"arn:{p.partition}:securityhub:{region}:{account}:product/{account}/default",
        "ProductName": PRODUCT_NAME,
        "CompanyName": PRODUCT_NAME,
        "Region": region,
        "GeneratorId": f.rule_id,
        "AwsAccountId": account,
        "Types": [f"Software and Configuration Checks/AWS Security Best Practices/{family_title(f.rule_id)}"],
        "FirstObservedAt": now,
        "LastObservedAt": now,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": label(f, profile), "Original": f.severity.value},
        "Title": truncate(f"{f.rule_id} {rule.title}", TITLE_MAX),
        "Description": truncate(f.result.message or rule.title, DESCRIPTION_MAX),
        "Remediation": {"Recommendation": {"Text": truncate(fix, RECOMMENDATION_MAX), "Url": rule.doc_url}},
        "SourceUrl": rule.doc_url,
        "ProductFields": _product_fields(f, p, profile),
        "Resources": [_resource(p)],
        "Compliance": {"Status": COMPLIANCE[f.status]},
        "Workflow": {"Status": "SUPPRESSED" if f.suppressed_by else ("RESOLVED" if f.status is Status.PASS else "NEW")},
        "RecordState": "ACTIVE",
    }
    return out


def findings(
    report: Report,
    show_passed: bool = False,
    account: str | None = None,
    region: str | None = None,
    now: dt.datetime | None = None,
    environ: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The ASFF findings of a report; UsageError when a finding has no account or region."""
    rows = placed(report, show_passed, Placer(report, account=account, region=region, environ=environ))
    _check_placed([p for _, p, _ in rows])
    when = timestamp(now or dt.datetime.now(dt.UTC))
    return [finding(f, p, i, report.profile, when) for f, p, i in rows]


def _check_placed(placements: list[Placement]) -> None:
    no_account = [p for p in placements if not p.account]
    no_region = [p for p in placements if not p.region]
    if no_account:
        first = no_account[0]
        raise UsageError(
            f"asff: {len(no_account)} finding(s) name no AWS account (first: {first.resource_id} in "
            f"{first.root}); Security Hub needs one: set {ACCOUNT_ENV}=123456789012 (and AWS_REGION) to "
            "the account whose Security Hub imports them"
        )
    if no_region:
        first = no_region[0]
        raise UsageError(
            f"asff: {len(no_region)} finding(s) name no AWS region (first: {first.resource_id} in "
            f"{first.root}); set AWS_REGION (or the provider's region in the configuration)"
        )


def render(
    report: Report,
    show_passed: bool = False,
    color: bool = False,
    account: str | None = None,
    region: str | None = None,
) -> str:
    doc = findings(report, show_passed=show_passed, account=account, region=region)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
