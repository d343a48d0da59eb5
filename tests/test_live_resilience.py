"""Throttling, 5xx and refused calls, injected by a proxy in front of a real (local) AWS endpoint."""

from __future__ import annotations

import argparse

import pytest
from fault_proxy import FaultProxy, denied, error
from moto_support import clients, connection, make_cluster, make_network, shared_local_aws

from validator.cli import main
from validator.commands.live import collect
from validator.engine import evaluate
from validator.rules import Status
from validator.sources.aws.audit import LiveRequest, audit

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    server = shared_local_aws()
    server.reset()
    rds, ec2 = clients(server.url, REGION)
    make_cluster(rds, "kb", make_network(rds, ec2, REGION))
    yield server
    server.reset()


def _verdicts(url: str) -> dict[str, list[str]]:
    result = audit(LiveRequest(clusters=["kb"], regions=[REGION], connection=connection(url)))
    [dep] = result.deployments
    out: dict[str, list[str]] = {}
    for f in evaluate(dep):
        out.setdefault(f.rule_id, []).append(f.status.value)
    return out


def _args(url: str, **kw) -> argparse.Namespace:
    base = {
        "live": True,
        "cluster": ["kb"],
        "all": False,
        "region": [REGION],
        "aws_profile": None,
        "endpoint_url": url,
        "localstack": False,
        "paths": [],
        "rules_profile": "default",
        "var_file": [],
        "var": [],
    }
    base.update(kw)
    return argparse.Namespace(**base)


def _cli(capsys, url: str, *extra: str) -> tuple[int, str, str]:
    code = main(["--live", "--cluster", "kb", "--region", REGION, "--endpoint-url", url, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_throttling_and_server_errors_are_retried(aws):
    expected = _verdicts(aws.url)
    with FaultProxy(aws.url) as proxy:
        proxy.add(error(400, "Throttling", "Rate exceeded", times=3))  # the first three requests
        proxy.add(error(503, "RequestLimitExceeded", "Request limit exceeded.", "ec2:DescribeSecurityGroups", 2))
        proxy.add(error(503, "ServiceUnavailable", "Service unavailable", "rds:DescribeDBInstances", 1))
        assert _verdicts(proxy.url) == expected
    assert proxy.injected == [
        "rds:DescribeDBClusters 400 Throttling",
        "rds:DescribeDBClusters 400 Throttling",
        "rds:DescribeDBClusters 400 Throttling",
        "rds:DescribeDBInstances 503 ServiceUnavailable",
        "ec2:DescribeSecurityGroups 503 RequestLimitExceeded",
        "ec2:DescribeSecurityGroups 503 RequestLimitExceeded",
    ]
    assert proxy.seen.count("rds:DescribeDBClusters") == 4


def test_throttling_beyond_the_retry_budget_is_one_line(aws, capsys, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    with FaultProxy(aws.url) as proxy:
        proxy.add(error(400, "Throttling", "Rate exceeded", "rds:DescribeDBClusters"))
        code, out, err = _cli(capsys, proxy.url)
    assert code == 3 and out == ""  # an endpoint failure exits like a refusal
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "AWS call failed: rds:DescribeDBClusters: failed in eu-west-1 (Throttling: Rate exceeded)" in err
    assert proxy.seen.count("rds:DescribeDBClusters") == 2


def test_refused_engine_versions_fall_back_to_the_facts_table_and_exit_3(aws, capsys):
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("rds:DescribeDBEngineVersions"))
        report = collect(_args(proxy.url))
        code, out, err = _cli(capsys, proxy.url)
    assert report.denied == ["rds:DescribeDBEngineVersions"]
    [dep] = report.deployments
    assert dep.clusters[0].reported_engine_support is None  # the facts table answers instead
    by_rule = {f.rule_id: f for f in report.findings if f.status is not Status.PASS or f.rule_id == "AV107"}
    note = by_rule["AV503"]
    assert note.status is Status.FAIL and note.severity.value == "info"
    assert "rds:DescribeDBEngineVersions was refused (AccessDenied)" in note.result.message
    assert "engine support taken from the facts table" in note.result.message
    assert by_rule["AV107"].status is Status.PASS  # still evaluated, from the facts table
    assert code == 3 and err == ""  # the report is printed; the exit code says a call was refused
    assert "AV503" in out and "grant rds:DescribeDBEngineVersions" in out


def test_refused_cluster_listing_stops_the_audit_with_exit_3(aws, capsys):
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("rds:DescribeDBClusters"))
        code, out, err = _cli(capsys, proxy.url)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "access denied: rds:DescribeDBClusters" in err and "grant rds:DescribeDBClusters" in err


def test_refused_security_groups_leave_ingress_unresolved_not_passed(aws, capsys):
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("ec2:DescribeSecurityGroups"))
        report = collect(_args(proxy.url))
        code, _, _ = _cli(capsys, proxy.url)
    assert code == 3 and report.denied == ["ec2:DescribeSecurityGroups"]
    statuses = {f.rule_id: f for f in report.findings}
    for rule_id in ("AV301", "AV401"):
        assert statuses[rule_id].status is Status.UNRESOLVED
        assert "ec2:DescribeSecurityGroups was refused (UnauthorizedOperation)" in statuses[rule_id].result.message
    assert statuses["AV503"].status is Status.FAIL
    assert statuses["AV106"].status is Status.PASS  # what was readable is still checked


def test_refused_instances_leave_instance_rules_unresolved(aws):
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("rds:DescribeDBInstances"))
        report = collect(_args(proxy.url))
    assert report.denied == ["rds:DescribeDBInstances"]
    [dep] = report.deployments
    assert [i.identifier.value for i in dep.clusters[0].instances] == ["kb-1"]  # from DBClusterMembers
    by_rule: dict[str, set[Status]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule_id, set()).add(f.status)
    assert by_rule["AV103"] == {Status.UNRESOLVED}
    assert by_rule["AV303"] == {Status.UNRESOLVED}


def test_refused_subnet_groups_leave_availability_zones_unresolved(aws):
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("rds:DescribeDBSubnetGroups"))
        report = collect(_args(proxy.url))
    assert report.denied == ["rds:DescribeDBSubnetGroups"]
    [av105] = [f for f in report.findings if f.rule_id == "AV105"]
    assert av105.status is Status.UNRESOLVED
    assert "rds:DescribeDBSubnetGroups was refused" in av105.result.message
