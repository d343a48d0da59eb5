"""AV501-AV503 and the API-to-model mapping on API answers shaped like boto3's (no endpoint needed)."""

from __future__ import annotations

import copy
import datetime as dt
import io

import pytest

from validator.errors import UsageError
from validator.model import Deployment, Location, Unknown, Value
from validator.rules import Status
from validator.rules.live import Drift, RefusedCalls, StoppedCluster
from validator.sources.aws import build as live_build
from validator.sources.aws.audit import _Progress
from validator.sources.aws.build import RefusedCall, RegionData
from validator.sources.aws.client import localstack_endpoint, retry_settings

ARN = "arn:aws:rds:ap-northeast-1:123456789012:cluster:kb"

CLUSTER = {
    "DBClusterIdentifier": "kb",
    "DBClusterArn": ARN,
    "Engine": "aurora-postgresql",
    "EngineVersion": "16.4",
    "EngineMode": "provisioned",
    "Status": "available",
    "Port": 5432,
    "MasterUsername": "dbadmin",
    "IAMDatabaseAuthenticationEnabled": True,
    "HttpEndpointEnabled": False,
    "StorageEncrypted": True,
    "DeletionProtection": False,
    "DBSubnetGroup": "db-subnets",
    "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
    "DBClusterMembers": [{"DBInstanceIdentifier": "kb-1", "IsClusterWriter": True}],
    "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4.0},
}
INSTANCE = {
    "DBInstanceIdentifier": "kb-1",
    "DBInstanceArn": "arn:aws:rds:ap-northeast-1:123456789012:db:kb-1",
    "DBInstanceClass": "db.serverless",
    "DBClusterIdentifier": "kb",
    "Engine": "aurora-postgresql",
    "PubliclyAccessible": False,
}
GROUP = {
    "GroupId": "sg-1",
    "GroupName": "db",
    "OwnerId": "123456789012",
    "IpPermissions": [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}], "Ipv6Ranges": [], "UserIdGroupPairs": []},
    ],
}
SUBNETS = {
    "DBSubnetGroupName": "db-subnets",
    "DBSubnetGroupArn": "arn:aws:rds:ap-northeast-1:123456789012:subgrp:db-subnets",
    "Subnets": [
        {"SubnetIdentifier": "subnet-a", "SubnetAvailabilityZone": {"Name": "ap-northeast-1a"}},
        {"SubnetIdentifier": "subnet-c", "SubnetAvailabilityZone": {"Name": "ap-northeast-1c"}},
    ],
}


def _data(**changes) -> tuple[dict, RegionData]:
    raw = copy.deepcopy(CLUSTER)
    raw.update(changes)
    data = RegionData(
        region="ap-northeast-1",
        clusters=[raw],
        instances={"kb": [copy.deepcopy(INSTANCE)]},
        subnet_groups={"db-subnets": copy.deepcopy(SUBNETS)},
        security_groups={"sg-1": copy.deepcopy(GROUP)},
    )
    return raw, data


def _deployment(**changes) -> Deployment:
    raw, data = _data(**changes)
    return live_build.deployment(raw, data)


def _results(rule, dep: Deployment):
    return list(rule.check(dep))


def test_stopped_without_a_reported_restart_time():
    [r] = _results(StoppedCluster(), _deployment(Status="stopped"))
    assert r.status is Status.FAIL
    assert "AWS starts it again within 7 days of the stop (the stop time is not reported)" in r.message
    assert "engine version 16.4 supports it" in r.message
    assert r.location == Location(api_call="rds:DescribeDBClusters", arn=ARN)


def test_stopped_with_the_restart_time_aws_reports():
    restart = dt.datetime(2025, 3, 8, 9, 30, tzinfo=dt.UTC)
    dep = _deployment(Status="stopped", AutomaticRestartTime=restart, EngineVersion="13.9")
    assert dep.clusters[0].stopped_since == "2025-03-01T09:30:00+00:00"
    [r] = _results(StoppedCluster(), dep)
    assert "AWS starts it again at 2025-03-08 09:30 UTC, 7 days after it was stopped at 2025-03-01 09:30 UTC" in (
        r.message
    )
    assert "engine version 13.9 does not support it; it needs 13.15 or later" in r.message


def test_stopped_with_auto_pause_already_configured():
    dep = _deployment(Status="stopping", ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 4})
    [r] = _results(StoppedCluster(), dep)
    assert r.status is Status.FAIL and "min_capacity is already 0" in r.message


def test_running_states_pass_and_a_missing_status_is_unresolved():
    assert [r.status for r in _results(StoppedCluster(), _deployment(Status="backing-up"))] == [Status.PASS]
    dep = _deployment()
    dep.clusters[0].status = None
    assert [r.status for r in _results(StoppedCluster(), dep)] == [Status.UNRESOLVED]


def test_refused_calls_are_named_with_their_consequence():
    raw, data = _data()
    data.refused = [
        RefusedCall("rds:DescribeDBEngineVersions", "AccessDenied", "ap-northeast-1", "facts used", denied=True),
        RefusedCall("ec2:DescribeSubnets", "InternalError", "ap-northeast-1", "zones unknown", denied=False),
    ]
    results = _results(RefusedCalls(), live_build.deployment(raw, data))
    assert [r.message for r in results] == [
        "rds:DescribeDBEngineVersions was refused (AccessDenied) in ap-northeast-1: facts used; grant "
        "rds:DescribeDBEngineVersions (policy/aurora-validate-readonly-policy.json)",
        "ec2:DescribeSubnets failed (InternalError) in ap-northeast-1: zones unknown",
    ]
    assert results[0].location.api_call == "rds:DescribeDBEngineVersions"
    assert [r.status for r in _results(RefusedCalls(), _deployment())] == [Status.PASS]


def _with_baseline(live: Deployment, *tf_clusters) -> Deployment:
    live.declared = Deployment(kind="hcl", root="infra", clusters=list(tf_clusters))
    return live


def _tf_like(ident: str, **changes) -> object:
    """A Terraform-side cluster: the live model with file origins (what drift reads is the same)."""
    dep = _deployment(DBClusterIdentifier=ident, **changes)
    c = dep.clusters[0]
    c.identifier = Value(ident, Location(file="main.tf", line=2))
    c.iam_auth = Value(c.iam_auth.value, Location(file="main.tf", line=7))
    c.arn = None
    return c


def test_drift_matches_the_terraform_cluster_by_identifier():
    live = _deployment()
    dep = _with_baseline(live, _tf_like("other"), _tf_like("kb", IAMDatabaseAuthenticationEnabled=False))
    failed = [r for r in _results(Drift(), dep) if r.status is Status.FAIL]
    assert [r.message.split(":")[0] for r in failed] == ["iam_database_authentication_enabled drifted"]
    assert failed[0].location == Location(file="infra/main.tf", line=7)


def test_drift_without_a_matching_cluster_is_unresolved():
    dep = _with_baseline(_deployment(), _tf_like("a"), _tf_like("b"))
    [r] = _results(Drift(), dep)
    assert r.status is Status.UNRESOLVED and "no Terraform cluster in infra has the identifier 'kb'" in r.message
    # The only cluster is compared even when its identifier differs (or is unknown).
    only = _tf_like("kb")
    only.identifier = Value(Unknown("var.name has no value"))
    assert [r.status for r in _results(Drift(), _with_baseline(_deployment(), only))] == [Status.PASS]


def test_drift_of_a_missing_scaling_block_and_unknown_live_values():
    tf = _tf_like("kb")
    tf.scaling = None
    live = _deployment()
    live.clusters[0].security_group_refs = Value(Unknown("ec2:DescribeSecurityGroups was refused"))
    results = _results(Drift(), _with_baseline(live, tf))
    messages = {r.message.split(" drifted")[0].split(" cannot")[0]: r for r in results}
    assert messages["min_capacity"].status is Status.FAIL
    assert "Terraform has not set" in messages["min_capacity"].message
    unresolved = messages["drift in ingress to port 5432 from the internet"]
    assert unresolved.status is Status.UNRESOLVED and "the live value is unknown" in unresolved.message


def test_no_baseline_means_no_drift_results():
    assert _results(Drift(), _deployment()) == []


def test_ingress_rules_and_missing_pieces_of_the_model():
    dep = _deployment()
    c = dep.clusters[0]
    [rule] = c.security_groups[0].ingress
    assert (rule.protocol.value, rule.from_port.value, rule.to_port.value) == ("-1", -1, -1)
    assert rule.covers_port(5432) is True
    assert c.scaling.seconds_until_auto_pause.defaulted  # not reported: the provider default applies
    raw, data = _data(DBSubnetGroup="gone", VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-gone"}])
    c = live_build.cluster(raw, data)
    assert c.subnet_group is None and "'gone' was not returned" in c.subnet_group_ref.reason
    assert c.security_groups == [] and "sg-gone were not returned" in c.security_group_refs.reason


def test_aws_engine_answer_without_serverless_features_keeps_the_facts_table():
    assert live_build.engine_support_from_aws("16.4", {"EngineVersion": "16.4"}, "eu-west-1") is None
    answer = {"EngineVersion": "16.4", "ServerlessV2FeaturesSupport": {"MinCapacity": 0.0, "MaxCapacity": 256.0}}
    support = live_build.engine_support_from_aws("16.4", answer, "eu-west-1")
    assert support.auto_pause is True and support.pgvector == "0.7.0"  # pgvector from the facts table


def test_progress_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        progress = _Progress(None, stream)
        progress.update("eu-west-1", 3)
        progress.update("us-east-1", 120)
        progress.done()
    assert tty.getvalue().endswith("reading clusters ... eu-west-1: 3, us-east-1: 120\n")
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:4566"),
        ({"LOCALSTACK_HOST": "localstack"}, "http://localstack:4566"),
        (
            {"LOCALSTACK_HOST": "localhost.localstack.cloud:4510", "USE_SSL": "1"},
            "https://localhost.localstack.cloud:4510",
        ),
    ],
)
def test_localstack_endpoint(env, url):
    assert localstack_endpoint(env) == url


def test_localstack_endpoint_follows_localstack_client_and_leaves_the_environment_alone(monkeypatch):
    import os

    monkeypatch.setenv("LOCALSTACK_HOST", "elsewhere:1")
    # LocalStack's convention (localstack-client): AWS_ENDPOINT_URL wins over LOCALSTACK_HOST.
    assert localstack_endpoint({"AWS_ENDPOINT_URL": "http://edge:4566"}) == "http://edge:4566"
    with pytest.raises(UsageError, match="LOCALSTACK_HOST: could not parse"):
        localstack_endpoint({"LOCALSTACK_HOST": "host:port"})
    assert os.environ["LOCALSTACK_HOST"] == "elsewhere:1" and "AWS_ENDPOINT_URL" not in os.environ


def test_the_aws_timeout_must_be_a_positive_number_of_seconds(capsys):
    from validator.cli import main

    assert main(["--live", "--all", "--region", "eu-west-1", "--aws-timeout", "0"]) == 2
    assert "--aws-timeout must be between 0 and 3600 seconds, not 0" in capsys.readouterr().err


def test_retry_settings_follow_the_aws_environment_variables():
    assert retry_settings({}) == ("standard", 6)
    assert retry_settings({"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "10"}) == ("adaptive", 10)
