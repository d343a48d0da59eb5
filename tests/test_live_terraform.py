"""End to end: real terraform deploys reference/terraform into a local AWS API; the live audit agrees with
the static scan, then catches changes made through the API (and names them as drift).

The deployment runs once for this module (the provider's waiters make it take one to two minutes), through
the same code as ``aurora-validate demo``, into its own local AWS API process.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from moto_support import clients, connection

from validator import demo
from validator.engine import Finding, evaluate
from validator.rules import Status
from validator.sources.aws.audit import LiveRequest, audit
from validator.sources.terraform import runner as terraform_runner
from validator.sources.terraform.hcl import load_root

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(bool(terraform_runner.missing_reason()), reason=terraform_runner.missing_reason() or "-"),
]

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "terraform"
REGION = "ap-northeast-1"

# Rules whose inputs a live audit cannot see, so their live verdict says nothing about the static one.
NOT_VISIBLE_LIVE = {
    "AV001": "inline suppression comments exist only in the files",
    "AV302": "the master password is never readable through the API (a plaintext literal is a file matter)",
    "AV403": "skip_final_snapshot / final_snapshot_identifier are Terraform-only deletion settings",
    "AV404": "the provider version constraint is a Terraform setting",
}


@pytest.fixture(scope="module")
def deployed():
    """The reference deployed by the demo's code path; yields (local API, demo JSON report, static findings)."""
    static = load_root(REFERENCE).deployment
    with demo.LocalAws() as local:
        args = demo.build_parser().parse_args(["--format", "json", "--show-passed"])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = demo.deploy_and_report(args, REFERENCE, local)
        assert code == 0, buffer.getvalue()
        yield local, json.loads(buffer.getvalue()), static


def _live(local, **kw) -> list[Finding]:
    result = audit(LiveRequest(regions=[REGION], connection=connection(local.url), all=True, **kw))
    assert len(result.deployments) == 1
    [dep] = result.deployments
    dep.declared = load_root(REFERENCE).deployment
    return evaluate(dep)


def _by_rule(findings) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for f in findings:
        status = f.status.value if isinstance(f, Finding) else f["status"]
        rule = f.rule_id if isinstance(f, Finding) else f["rule_id"]
        out.setdefault(rule, Counter())[status] += 1
    return out


def test_live_verdicts_equal_static_verdicts(deployed):
    local, demo_report, static = deployed
    static_rules = _by_rule(evaluate(static))
    live_rules = _by_rule(_live(local))
    # The demo's own report (same deployment, rendered as JSON) says the same as a fresh audit.
    assert _by_rule(demo_report["findings"]) == live_rules
    assert demo_report["roots"][0].startswith(f"arn:aws:rds:{REGION}:")

    compared = {}
    for rule_id in sorted(set(static_rules) & set(live_rules)):
        if rule_id in NOT_VISIBLE_LIVE:
            continue
        if "unresolved" in static_rules[rule_id] or "unresolved" in live_rules[rule_id]:
            continue
        compared[rule_id] = static_rules[rule_id]
        assert live_rules[rule_id] == static_rules[rule_id], rule_id
    # What the article's configuration gets wrong is seen the same way from both sides.
    assert {
        "AV101",
        "AV102",
        "AV103",
        "AV104",
        "AV105",
        "AV106",
        "AV107",
        "AV201",
        "AV202",
        "AV301",
        "AV303",
        "AV304",
        "AV401",
        "AV402",
    } <= set(compared)
    assert compared["AV301"] == {"fail": 1} and compared["AV303"] == {"fail": 1} and compared["AV401"] == {"fail": 1}
    # Live-only checks: the cluster runs, and it matches its Terraform.
    assert live_rules["AV501"] == {"pass": 1} and live_rules["AV502"] == {"pass": 1}
    assert live_rules["AV503"] == {"pass": 1}


def test_changes_through_the_api_are_caught_and_reported_as_drift(deployed):
    local, _, static = deployed
    rds, ec2 = clients(local.url, REGION)
    [cluster] = rds.describe_db_clusters()["DBClusters"]
    ident = cluster["DBClusterIdentifier"]
    [group] = [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]]
    rds.modify_db_cluster(DBClusterIdentifier=ident, EnableIAMDatabaseAuthentication=False, ApplyImmediately=True)
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{ident}-reader",
        DBClusterIdentifier=ident,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )

    findings = _live(local)
    static_rules = _by_rule(evaluate(static))
    failed = [f for f in findings if f.status is Status.FAIL]

    av106 = [f for f in failed if f.rule_id == "AV106"]
    assert static_rules["AV106"] == {"pass": 1} and len(av106) == 1
    av103 = [f for f in failed if f.rule_id == "AV103"]
    assert len(av103) == 1 and "db.r6g.large" in av103[0].result.message
    assert av103[0].result.resource.endswith(f":db:{ident}-reader")
    av301 = [f for f in failed if f.rule_id == "AV301"]
    assert len(av301) == 2 and any("all ports" in f.result.message for f in av301)

    drift = {f.result.message.split(" drifted:")[0]: f for f in failed if f.rule_id == "AV502"}
    assert sorted(drift) == [
        "iam_database_authentication_enabled",
        "ingress to port 5432 from the internet",
        "instance_class",
    ]
    iam = drift["iam_database_authentication_enabled"]
    assert "Terraform has true" in iam.result.message and "the deployed cluster has false" in iam.result.message
    assert iam.result.location.file.endswith("modules/aurora/aurora.tf")
    assert "rds:DescribeDBClusters arn:aws:rds:" in iam.result.message
    assert "tcp 0-65535 from 0.0.0.0/0" in drift["ingress to port 5432 from the internet"].result.message
    assert "db.r6g.large, db.serverless" in drift["instance_class"].result.message
