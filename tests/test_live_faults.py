"""Any endpoint, no traceback: every fault the proxy can inject, in front of a real (local) AWS API.

Two regions, three clusters, a knowledge base with its secret and one that names no cluster. For
each fault: no traceback, bounded retries, the refused or failed call is an AV503 finding naming
the operation, exit 3, and what the fault does not touch is still reported.
"""

from __future__ import annotations

import json
import time

import pytest
from fault_proxy import Fault, FaultProxy, denied, error
from moto_support import (
    clients,
    make_cluster,
    make_knowledge_base,
    make_network,
    make_secret,
    shared_local_aws,
)

from validator.cli import main

REGION = "eu-west-1"
EAST = "us-east-1"
ACCOUNT = "123456789012"
TIMEOUT = "6"  # --aws-timeout: reads time out after 3 s (a loaded CI machine answers within that)


@pytest.fixture(scope="module")
def world():
    server = shared_local_aws()
    server.reset()
    rds, ec2 = clients(server.url, REGION)
    net = make_network(rds, ec2, REGION)
    kb_cluster = make_cluster(rds, "kb", net)
    make_cluster(rds, "other", net)
    east_rds, east_ec2 = clients(server.url, EAST)
    make_cluster(east_rds, "east", make_network(east_rds, east_ec2, EAST))
    secret = make_secret(server.url, REGION)
    make_knowledge_base(server.url, REGION, "docs", kb_cluster["DBClusterArn"], secret)
    make_knowledge_base(
        server.url, REGION, "stray", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:gone", secret
    )
    yield server
    server.reset()


@pytest.fixture
def env(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    return monkeypatch


def run(capsys, url: str, *extra: str) -> tuple[int, dict | None, str]:
    argv = ["--live", "--all", "--region", REGION, "--region", EAST, "--endpoint-url", url]
    code = main([*argv, "--format", "json", "--show-passed", "--aws-timeout", TIMEOUT, *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, (json.loads(out) if out else None), err


def clusters_in(doc: dict) -> set[str]:
    return {f["resource"].split(":")[-1] for f in doc["findings"] if f["rule_id"] == "AV101"}


def av503(doc: dict) -> list[str]:
    return [f["message"] for f in doc["findings"] if f["rule_id"] == "AV503" and f["status"] == "fail"]


def test_without_faults_everything_is_read_and_answered(world, env, capsys):
    with FaultProxy(world.url) as proxy:
        code, doc, err = run(capsys, proxy.url)
    assert doc is not None and err == ""
    assert clusters_in(doc) == {"kb", "other", "east"}
    assert av503(doc) == [] and doc["denied"] == [] and doc["failed_calls"] == []
    av203 = {
        name: f
        for f in doc["findings"]
        for name in ("docs", "stray")
        if f["rule_id"] == "AV203" and f["resource"].split("/")[-1].startswith(name)
    }
    assert av203["docs"]["status"] == "pass"  # linked to kb, fully mapped, its secret exists
    assert av203["stray"]["status"] == "fail"  # names a cluster that does not exist
    assert "no such DB cluster exists in eu-west-1" in av203["stray"]["message"]
    assert code == 0


# (fault, the operation the AV503 finding names, whether it is a refusal, clusters still reported)
ALL = {"kb", "other", "east"}
CASES = [
    (error(400, "Throttling", "Rate exceeded", "rds:DescribeDBInstances"), "rds:DescribeDBInstances", False, ALL),
    (
        error(503, "RequestLimitExceeded", "Request limit exceeded.", "ec2:DescribeSecurityGroups"),
        "ec2:DescribeSecurityGroups",
        False,
        ALL,
    ),
    (error(500, "InternalFailure", "boom", "rds:DescribeDBSubnetGroups"), "rds:DescribeDBSubnetGroups", False, ALL),
    (Fault("status", 503, operation="rds:DescribeDBEngineVersions"), "rds:DescribeDBEngineVersions", False, ALL),
    (Fault("status", 500, operation="bedrock:ListKnowledgeBases"), "bedrock:ListKnowledgeBases", False, ALL),
    (denied("rds:DescribeDBInstances"), "rds:DescribeDBInstances", True, ALL),
    (denied("ec2:DescribeSecurityGroups"), "ec2:DescribeSecurityGroups", True, ALL),
    (denied("bedrock:ListKnowledgeBases"), "bedrock:ListKnowledgeBases", True, ALL),
    (denied("bedrock:GetKnowledgeBase"), "bedrock:GetKnowledgeBase", True, ALL),
    (denied("secretsmanager:DescribeSecret"), "secretsmanager:DescribeSecret", True, ALL),
    (Fault("ec2-denied-200", operation="ec2:DescribeSecurityGroups"), "ec2:DescribeSecurityGroups", True, ALL),
    (Fault("garbage", operation="rds:DescribeDBInstances"), "rds:DescribeDBInstances", False, ALL),
    (Fault("empty", operation="rds:DescribeDBEngineVersions"), "rds:DescribeDBEngineVersions", False, ALL),
    (Fault("html", operation="ec2:DescribeSecurityGroups"), "ec2:DescribeSecurityGroups", False, ALL),
    (Fault("html", operation="bedrock:GetKnowledgeBase"), "bedrock:GetKnowledgeBase", False, ALL),
    (Fault("truncated", operation="rds:DescribeDBSubnetGroups"), "rds:DescribeDBSubnetGroups", False, ALL),
    (Fault("truncated", operation="secretsmanager:DescribeSecret"), "secretsmanager:DescribeSecret", False, ALL),
    (Fault("reset", operation="rds:DescribeDBInstances"), "rds:DescribeDBInstances", False, ALL),
    (Fault("slow", operation="ec2:DescribeSecurityGroups", delay=5), "ec2:DescribeSecurityGroups", False, ALL),
    (Fault("slow", operation="bedrock:ListKnowledgeBases", delay=5), "bedrock:ListKnowledgeBases", False, ALL),
    # The cluster listing of one region: that region is reported unread, the other one in full.
    (
        Fault("reset", operation="rds:DescribeDBClusters", region=EAST),
        "rds:DescribeDBClusters",
        False,
        {"kb", "other"},
    ),
    (Fault("garbage", operation="rds:DescribeDBClusters", region=REGION), "rds:DescribeDBClusters", False, {"east"}),
    (denied("rds:DescribeDBClusters", region=EAST), "rds:DescribeDBClusters", True, {"kb", "other"}),
]


def _id(case: tuple) -> str:
    fault = case[0]
    what = f"{fault.status}-{fault.code}" if fault.kind == "error" else fault.kind
    return f"{what}-{case[1]}{'-' + fault.region if fault.region else ''}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_each_fault_is_a_finding_not_a_traceback(world, env, capsys, case):
    fault, operation, refusal, reported = case
    started = time.monotonic()
    with FaultProxy(world.url) as proxy:
        proxy.add(fault)
        code, doc, err = run(capsys, proxy.url)
    elapsed = time.monotonic() - started
    assert proxy.injected, "the fault was never injected"
    assert doc is not None, err
    assert code == 3, (code, err)
    assert clusters_in(doc) == reported  # the rest is still audited
    notes = av503(doc)
    assert notes and all(operation in n for n in notes), notes
    verdict = "was refused" if refusal else "failed"
    assert any(f"{operation} {verdict}" in n for n in notes), notes
    if refusal:
        assert doc["denied"] == [operation] and any(f"grant {operation}" in n for n in notes)
    else:
        assert doc["failed_calls"] == [operation] and doc["denied"] == []
    # Retries are bounded: 3 attempts at most per logical call (AWS_MAX_ATTEMPTS), in seconds.
    assert proxy.seen.count(operation) <= 3 * 4, proxy.seen
    assert elapsed < 30


def test_failures_leave_values_unresolved_never_passed(world, env, capsys):
    with FaultProxy(world.url) as proxy:
        proxy.add(Fault("garbage", operation="ec2:DescribeSecurityGroups"))
        proxy.add(Fault("reset", operation="secretsmanager:DescribeSecret"))
        code, doc, _ = run(capsys, proxy.url)
    assert code == 3 and doc is not None
    kb = {f["rule_id"]: f for f in doc["findings"] if f["resource"].endswith(":cluster:kb")}
    for rule_id in ("AV301", "AV401"):
        assert kb[rule_id]["status"] == "unresolved"
        assert "ec2:DescribeSecurityGroups failed (InvalidResponse" in kb[rule_id]["message"]
    docs = [f for f in doc["findings"] if f["rule_id"] == "AV203" and "/docs" in f["resource"]]
    assert [f["status"] for f in docs] == ["unresolved"]
    assert "secretsmanager:DescribeSecret failed (ConnectionError" in docs[0]["message"]
    assert sorted(doc["failed_calls"]) == ["ec2:DescribeSecurityGroups", "secretsmanager:DescribeSecret"]


def test_throttling_within_the_budget_is_retried_and_invisible(world, env, capsys):
    with FaultProxy(world.url) as proxy:
        code, clean, _ = run(capsys, proxy.url)
        proxy.clear()
        proxy.add(error(400, "Throttling", "Rate exceeded", "rds:DescribeDBClusters", times=2))
        proxy.add(error(400, "RequestLimitExceeded", "Request limit exceeded.", "ec2:DescribeSecurityGroups", times=1))
        proxy.add(Fault("status", 503, operation="bedrock:ListKnowledgeBases", times=1))
        retried_code, retried, _ = run(capsys, proxy.url)
    assert len(proxy.injected) == 4
    assert retried_code == code == 0 and retried == clean


def test_a_dead_endpoint_is_given_up_in_seconds(env, capsys):
    """An endpoint that accepts connections and never answers, with the default timeouts."""
    env.setenv("AWS_MAX_ATTEMPTS", "6")
    with FaultProxy("http://127.0.0.1:9") as proxy:  # nothing upstream: every request hangs
        proxy.add(Fault("hang"))
        started = time.monotonic()
        code = main(["--live", "--all", "--region", REGION, "--region", EAST, "--endpoint-url", proxy.url])
        elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "AWS call failed: rds:DescribeDBClusters: failed in eu-west-1, us-east-1 (Timeout" in err
    assert elapsed < 20, elapsed  # one read timeout (10 s) per region, the regions in parallel
    assert proxy.seen.count("rds:DescribeDBClusters") == 2  # no retry could have ended in time


def _failures(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]) for f in doc["findings"] if f["status"] == "fail"}


@pytest.fixture(scope="module")
def clean_failures(world):
    """What fails on the clean answers (the reference for 'never a false failure')."""
    import contextlib
    import io
    import os

    import _pytest.capture  # noqa: F401  (capsys is function-scoped; run the CLI directly here)

    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS="3")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), FaultProxy(world.url) as proxy:
            main(["--live", "--all", "--region", REGION, "--region", EAST, "--endpoint-url", proxy.url,
                  "--format", "json", "--show-passed", "--aws-timeout", TIMEOUT])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return _failures(json.loads(out.getvalue()))


# (operation, the field its answer loses, a rule that must then be unresolved on the "kb" cluster)
FIELDS = [
    ("rds:DescribeDBClusters", "DBClusterArn", None),
    ("rds:DescribeDBClusters", "DBClusterIdentifier", "AV103"),
    ("rds:DescribeDBClusters", "VpcSecurityGroupId", "AV301"),
    ("rds:DescribeDBClusters", "DBSubnetGroup", "AV105"),
    ("rds:DescribeDBInstances", "DBInstanceIdentifier", None),
    ("rds:DescribeDBInstances", "DBClusterIdentifier", "AV103"),
    ("rds:DescribeDBSubnetGroups", "DBSubnetGroupName", None),
    ("rds:DescribeDBSubnetGroups", "SubnetIdentifier", None),
    ("ec2:DescribeSecurityGroups", "groupId", "AV301"),  # EC2 spells its XML in camelCase
    ("ec2:DescribeSecurityGroups", "cidrIp", "AV301"),
    ("bedrock:GetKnowledgeBase", "rdsConfiguration", "AV203"),
    ("bedrock:GetKnowledgeBase", "tableName", "AV203"),
    ("bedrock:GetKnowledgeBase", "knowledgeBaseArn", None),
    ("bedrock:ListKnowledgeBases", "knowledgeBaseId", None),
]


@pytest.mark.parametrize(("operation", "name", "unresolved"), FIELDS, ids=[f"{o}-{n}" for o, n, _ in FIELDS])
def test_an_answer_missing_a_field_is_unknown_never_a_crash_or_a_false_failure(
    world, env, capsys, clean_failures, operation, name, unresolved
):
    with FaultProxy(world.url) as proxy:
        proxy.add(Fault("strip", operation=operation, field=name))
        code, doc, err = run(capsys, proxy.url)
    assert proxy.injected and doc is not None, err
    assert clusters_in(doc) == ALL

    # Only what AWS reported can fail; a missing field makes checks unresolved, not failed.
    # (Without its ARN a cluster is named by its identifier, so compare by the name.)
    def named(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return {(rule, resource.split(":")[-1].split("/")[-1]) for rule, resource in pairs}

    new = {(rule, name) for rule, name in named(_failures(doc)) - named(clean_failures) if rule != "AV503"}
    assert new == set(), new
    assert (av503(doc) != []) == (name == "knowledgeBaseId"), av503(doc)
    if unresolved:
        statuses = {f["status"] for f in doc["findings"] if f["rule_id"] == unresolved}
        assert "unresolved" in statuses, statuses
    if name == "knowledgeBaseId":  # nothing to read the knowledge bases by: said, never silent
        assert code == 3 and doc["failed_calls"] == ["bedrock:ListKnowledgeBases"]
    else:
        assert code in (0, 1) and doc["failed_calls"] == [] and doc["denied"] == []
