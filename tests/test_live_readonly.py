"""The live audit only reads: every operation sent is recorded and checked, and the IAM policy covers them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from moto_support import (
    clients,
    connection,
    make_cluster,
    make_knowledge_base,
    make_network,
    make_secret,
    shared_local_aws,
)
from test_live_drift import TERRAFORM

from validator.commands.live import collect
from validator.sources.aws import audit as live
from validator.sources.aws import build as live_build
from validator.sources.aws import client as live_aws
from validator.sources.aws.audit import LiveRequest, audit

REGION = "eu-west-1"
POLICY = Path(__file__).resolve().parent.parent / "policy" / "aurora-validate-readonly-policy.json"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = shared_local_aws()
    server.reset()
    for region in (REGION, "us-east-1"):
        rds, ec2 = clients(server.url, region)
        net = make_network(rds, ec2, region)
        kb = make_cluster(rds, "kb", net, instances=("db.serverless", "db.r6g.large"))
        make_cluster(rds, "other", net)
        secret = make_secret(server.url, region)
        make_knowledge_base(server.url, region, "docs", kb["DBClusterArn"], secret)
        make_knowledge_base(server.url, region, "stray", kb["DBClusterArn"].replace(":kb", ":gone"), secret)
    rds, _ = clients(server.url, REGION)
    rds.stop_db_cluster(DBClusterIdentifier="other")
    yield server
    server.reset()


def _read_only(operation: str) -> bool:
    service, _, name = operation.partition(":")
    services = ("rds", "ec2", "bedrock", "secretsmanager", "iam", "organizations")
    return service in services and name.startswith(live_aws.READ_ONLY_PREFIXES)


def test_every_operation_of_full_and_drift_audits_is_read_only_and_declared(aws, tmp_path):
    hooked: list[str] = []
    with FaultProxy(aws.url) as proxy:
        # A full audit of two regions (the client-side hook sees each logical call) ...
        result = audit(
            LiveRequest(
                all=True,
                regions=[REGION, "us-east-1"],
                connection=connection(proxy.url, [lambda region, op: hooked.append(op)]),
            )
        )
        assert sum(len(d.clusters) for d in result.deployments) == 4
        assert sum(len(d.knowledge_bases) for d in result.deployments) == 4  # a stray one per region too
        # ... and a drift audit through the command, with Terraform to compare with.
        (tmp_path / "main.tf").write_text(TERRAFORM, encoding="utf-8")
        args = argparse.Namespace(
            live=True,
            cluster=["kb", "other"],
            all=False,
            region=[REGION],
            aws_profile=None,
            endpoint_url=proxy.url,
            localstack=False,
            paths=[str(tmp_path)],
            rules_profile="default",
            var_file=[],
            var=[],
        )
        report = collect(args)
        assert any(f.rule_id == "AV502" for f in report.findings)
    # The proxy saw every HTTP request on the wire, retries included.
    wire = set(proxy.seen)
    assert wire and all(_read_only(op) for op in wire), sorted(wire)
    assert set(hooked) <= live_aws.OPERATIONS and all(_read_only(op) for op in hooked)
    assert wire <= live_aws.OPERATIONS, sorted(wire - live_aws.OPERATIONS)
    # The audit used every call it depends on (so this test exercised them all).
    exercised = set(
        live_aws.FATAL_OPERATIONS + live_aws.DEGRADABLE_OPERATIONS + live_aws.KNOWLEDGE_BASE_OPERATIONS
    ) | {"rds:DescribeDBEngineVersions"}
    assert not any("GetSecretValue" in op for op in wire | set(hooked))  # a secret's value is never read
    assert exercised <= wire


def test_the_iam_policy_grants_exactly_the_operations_the_audit_can_send():
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    assert policy["Version"] == "2012-10-17"
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        if set(statement["Action"]) <= live_aws.ASSUME_OPERATIONS:
            # Assuming roles (many accounts): only the audit role, in any account.
            assert statement["Resource"] == "arn:aws:iam::*:role/aurora-validate-audit"
        else:
            # EC2 Describe* calls accept no resource-level scoping; the IAM reads follow role_arn, any role.
            assert statement["Resource"] == "*"
        actions.update(statement["Action"])
    assert actions == set(live_aws.OPERATIONS)
    assert not any("*" in a for a in actions)
    assert all(_read_only(a) for a in actions - live_aws.ASSUME_OPERATIONS)
    assert {"sts:AssumeRole"} == live_aws.ASSUME_OPERATIONS


def test_a_write_call_is_refused_before_it_is_sent(aws):
    with FaultProxy(aws.url) as proxy:
        made = live_aws.Clients(connection(proxy.url))
        rds = made.client("rds", REGION)
        with pytest.raises(RuntimeError, match="non-read-only call: rds:DeleteDBCluster"):
            rds.delete_db_cluster(DBClusterIdentifier="kb", SkipFinalSnapshot=True)
        rds.describe_db_clusters(DBClusterIdentifier="kb")
    assert proxy.seen == ["rds:DescribeDBClusters"]


def test_the_static_path_does_not_load_boto3():
    code = (
        "import sys\n"
        "import validator.commands.live, validator.rules.live, validator.sources.aws.audit\n"
        "from validator.rules import all_rules\n"
        "all_rules()\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


class _SubnetGroupsWithoutZones:
    """An RDS client whose subnet groups leave the Availability Zones out (AWS may)."""

    class exceptions:  # mirrors boto3's client.exceptions
        DBSubnetGroupNotFoundFault = LookupError

    def __init__(self, subnets: list[str]) -> None:
        self.subnets = subnets

    def describe_db_subnet_groups(self, DBSubnetGroupName: str) -> dict:
        subnets = [{"SubnetIdentifier": s, "SubnetAvailabilityZone": {}} for s in self.subnets]
        return {"DBSubnetGroups": [{"DBSubnetGroupName": DBSubnetGroupName, "Subnets": subnets}]}


def test_the_subnet_zone_fallback_is_read_only_declared_and_used(aws):
    rds, ec2 = clients(aws.url, REGION)
    (group,) = rds.describe_db_subnet_groups(DBSubnetGroupName="db-subnets")["DBSubnetGroups"]
    subnets = [s["SubnetIdentifier"] for s in group["Subnets"]]
    hooked: list[str] = []
    with FaultProxy(aws.url) as proxy:
        made = live_aws.Clients(connection(proxy.url, [lambda region, op: hooked.append(op)]))
        data = live_build.RegionData(region=REGION, clusters=[{"DBSubnetGroup": "db-subnets"}])
        live._fetch_subnet_groups(_SubnetGroupsWithoutZones(subnets), made.client("ec2", REGION), data)
    assert proxy.seen == ["ec2:DescribeSubnets"] and set(proxy.seen) <= live_aws.OPERATIONS
    assert hooked == ["ec2:DescribeSubnets"]
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    assert data.subnet_azs == zones and len(zones) == 2
    group = live_build.subnet_group(data.subnet_groups["db-subnets"], data.subnet_azs)
    assert [s.availability_zone.value for s in group.subnets.value] == [zones[s] for s in subnets]
    assert {s.availability_zone.origin.api_call for s in group.subnets.value} == {"ec2:DescribeSubnets"}


def test_reading_the_knowledge_base_role_sends_only_declared_read_calls(aws):
    """Every IAM call of live_iam on the wire: read-only, in OPERATIONS, and in the shipped policy."""
    import boto3

    from validator.sources.aws import iam as live_iam

    iam = boto3.client("iam", endpoint_url=aws.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "bedrock.amazonaws.com"}}]}
    role = iam.create_role(RoleName="kb-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-data:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="kb-role", PolicyName="inline", PolicyDocument=json.dumps(allow))
    arn = iam.create_policy(PolicyName="attached", PolicyDocument=json.dumps(allow))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="kb-role", PolicyArn=arn)
    hooked: list[str] = []
    with FaultProxy(aws.url) as proxy:
        made = live_aws.Clients(connection(proxy.url, [lambda region, op: hooked.append(op)]))
        found = live_iam.read_role(made, role["Arn"])
    assert found.role is not None and len(found.role.policies) == 2
    wire = set(proxy.seen)
    assert wire == set(live_aws.ROLE_OPERATIONS) == set(hooked), sorted(wire)
    assert all(_read_only(op) for op in wire)
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    granted = {a for st in policy["Statement"] for a in st["Action"]}
    assert wire <= granted
