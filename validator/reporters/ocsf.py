"""OCSF Compliance Finding events (class 2003) for security data lakes and SIEMs.

The report is a JSON array of events of the Open Cybersecurity Schema Framework,
schema version 1.5.0 (``metadata.version``), class Compliance Finding (uid 2003,
category Findings, 2), activity Create (1): the class Prowler's OCSF models
(py-ocsf-models) define for compliance checks.
Every event carries the class's required attributes (``activity_id``,
``category_uid``, ``class_uid``, ``compliance``, ``finding_info``, ``metadata``,
``severity_id``, ``time``, ``type_uid``) and those of the objects it holds
(``metadata.product``, ``metadata.version``, ``product.name``, ``finding_info.uid``,
``cloud.provider``); the tests check them against a record of the schema
(``tests/data/ocsf-1.5.0-compliance-finding.json``, with its sources).

* ``compliance.status_id``: Pass (1), Fail (3), or Warning (2) for an unresolved
  check: OCSF defines Warning as "the compliance check did not yield a result due
  to missing information", which is what unresolved means; the reason is in
  ``compliance.status_details``.
* ``severity_id`` ranks as SARIF's security-severity and ASFF's label do
  (Informational 1 for a pass, then Low 2, Medium 3, High 4, Critical 5).
* ``status_id`` is the finding's life cycle: New (1), or Suppressed (3) for a
  suppressed finding, what suppressed it in ``unmapped``; ``status_code`` is our
  status (PASS, FAIL, UNRESOLVED).
* ``resources``: the ARN (live) or the Terraform address with its root, file and
  line (static scans, in ``resources[].data``); ``cloud`` names the provider and,
  when known, the account and region (from the ARN, the finding, ``AWS_ACCOUNT_ID``
  / ``AWS_REGION``, or the Terraform provider's region). An unknown account is left
  out, never invented.
* ``finding_info.uid`` is the identifier the ASFF report gives the same finding.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from validator import __version__
from validator.findings import Finding, Report
from validator.reporters.placement import (
    PRODUCT_NAME,
    Placement,
    Placer,
    family_title,
    label,
    placed,
)
from validator.rules import Status

OCSF_VERSION = "1.5.0"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
CLASS_UID, CLASS_NAME = 2003, "Compliance Finding"
ACTIVITY_ID, ACTIVITY_NAME = 1, "Create"
TYPE_UID = CLASS_UID * 100 + ACTIVITY_ID  # the schema's rule: class_uid * 100 + activity_id
SEVERITY_IDS = {"INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
SEVERITY_CAPTIONS = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
COMPLIANCE_STATUS = {Status.PASS: (1, "Pass"), Status.FAIL: (3, "Fail"), Status.UNRESOLVED: (2, "Warning")}
STATUS_NEW, STATUS_SUPPRESSED = (1, "New"), (3, "Suppressed")
ACCOUNT_TYPE_AWS = (10, "AWS Account")  # account.type_id 10: AWS Account
STANDARD = f"{PRODUCT_NAME} rule catalogue"


def epoch_ms(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)


def _resource(p: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": p.resource_id, "type": p.resource_type, "cloud_partition": p.partition}
    out["name"] = p.address or (p.arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if p.arn else p.resource_id)
    if p.region:
        out["region"] = p.region
    data: dict[str, Any] = {"source": p.kind, "root": p.root}
    if p.address:
        data["terraform_address"] = p.address
    if p.terraform_type:
        data["terraform_type"] = p.terraform_type
    if p.file:
        data["file"] = p.file
    if p.line:
        data["line"] = p.line
    out["data"] = data
    return out


def _cloud(p: Placement) -> dict[str, Any]:
    cloud: dict[str, Any] = {"provider": "AWS"}
    if p.region:
        cloud["region"] = p.region
    if p.account:
        type_id, type_name = ACCOUNT_TYPE_AWS
        cloud["account"] = {"uid": p.account, "type_id": type_id, "type": type_name}
    return cloud


def event(f: Finding, p: Placement, uid: str, profile: str, now: dt.datetime) -> dict[str, Any]:
    """One Compliance Finding event."""
    rule = f.rule
    when = epoch_ms(now)
    severity_id = SEVERITY_IDS[label(f, profile)]
    status_id, status = STATUS_SUPPRESSED if f.suppressed_by else STATUS_NEW
    compliance_id, compliance = COMPLIANCE_STATUS[f.status]
    comp: dict[str, Any] = {
        "control": rule.id,
        "desc": rule.title,
        "requirements": [f"{rule.id}: {rule.title}"],
        "standards": [STANDARD],
        "status_id": compliance_id,
        "status": compliance,
    }
    if f.status is Status.UNRESOLVED:
        comp["status_details"] = [f.result.message]
    unmapped: dict[str, Any] = {"severity": f.severity.value, "profile": profile, "status": f.status.value}
    if f.result.location.api_call:
        unmapped["api_call"] = f.result.location.api_call
    if f.suppressed_by:
        unmapped["suppressed_by"] = f.suppressed_by
    return {
        "activity_id": ACTIVITY_ID,
        "activity_name": ACTIVITY_NAME,
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": TYPE_UID,
        "type_name": f"{CLASS_NAME}: {ACTIVITY_NAME}",
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTIONS[severity_id],
        "status_id": status_id,
        "status": status,
        "status_code": f.status.value.upper(),
        "status_detail": f.result.message,
        "message": f.result.message,
        "time": when,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": PRODUCT_NAME, "vendor_name": PRODUCT_NAME, "uid": PRODUCT_NAME, "version": __version__},
            "event_code": rule.id,
            "profiles": ["cloud"],
        },
        "finding_info": {
            "uid": uid,
            "title": f"{rule.id} {rule.title}",
            "desc": rule.rationale,
            "types": [family_title(rule.id)],
            "created_time": when,
            "first_seen_time": when,
            "last_seen_time": when,
            "src_url": rule.doc_url,
        },
        "compliance": comp,
        "remediation": {"desc": f"Terraform fix:\n{rule.fix}", "references": [rule.doc_url]},
        "resources": [_resource(p)],
        "cloud": _cloud(p),
        "unmapped": {PRODUCT_NAME: unmapped},
    }


def events(
    report: Report,
    show_passed: bool = False,
    account: str | None = None,
    region: str | None = None,
    now: dt.datetime | None = None,
    environ: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    rows = placed(report, show_passed, Placer(report, account=account, region=region, environ=environ))
    when = now or dt.datetime.now(dt.UTC)
    return [event(f, p, u, report.profile, when) for f, p, u in rows]


def render(
    report: Report,
    show_passed: bool = False,
    color: bool = False,
    account: str | None = None,
    region: str | None = None,
) -> str:
    doc = events(report, show_passed=show_passed, account=account, region=region)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
