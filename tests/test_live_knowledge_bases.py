"""Knowledge bases read live (bedrock-agent, Secrets Manager) and AV203 on them, against moto over HTTP:
the patched server the other tests use, and a moto server with no patch at all."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from moto_support import (
    clients,
    connection,
    make_cluster,
    make_knowledge_base,
    make_network,
    make_secret,
    shared_local_aws,
    shared_plain_moto,
)

from validator.cli import main
from validator.engine import evaluate
from validator.rules import Status
from validator.sources.aws.audit import LiveRequest, audit

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture(params=["patched", "plain"])
def aws(request, monkeypatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # plain moto answers DescribeDBEngineVersions with a 500
    server = shared_local_aws() if request.param == "patched" else shared_plain_moto()
    server.reset()
    server.kind = request.param
    yield server
    server.reset()


def _av203(deployments) -> dict[str, list]:
    out: dict[str, list] = {}
    for dep in deployments:
        for f in evaluate(dep):
            if f.rule_id == "AV203":
                name = f.result.resource.split("/")[-1]
                out.setdefault(name, []).append(f)
    return out


def _kb_named(results: dict[str, list], prefix: str) -> list:
    [found] = [v for k, v in results.items() if k.startswith(prefix)]
    return found


def test_knowledge_bases_are_linked_to_their_clusters_and_av203_runs_live(aws):
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    kb_cluster = make_cluster(rds, "kb", net)
    make_cluster(rds, "plain", net)
    secret = make_secret(aws.url, REGION)
    make_knowledge_base(aws.url, REGION, "docs", kb_cluster["DBClusterArn"], secret)
    make_knowledge_base(
        aws.url,
        REGION,
        "nomap",
        kb_cluster["DBClusterArn"],
        secret,
        table="",
        mapping={"primaryKeyField": "id", "vectorField": "embedding", "textField": "chunks", "metadataField": ""},
    )
    missing_secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    make_knowledge_base(aws.url, REGION, "nosecret", kb_cluster["DBClusterArn"], missing_secret)
    make_knowledge_base(aws.url, REGION, "vectors", None, None, storage_type="OPENSEARCH_SERVERLESS")

    calls: list[str] = []
    result = audit(
        LiveRequest(
            clusters=["kb", "plain"],
            regions=[REGION],
            connection=connection(aws.url, [lambda region, op: calls.append(op)]),
        )
    )
    by_id = {d.clusters[0].identifier.value: d for d in result.deployments}
    assert set(by_id) == {"kb", "plain"}
    kbs = by_id["kb"].knowledge_bases
    assert len(kbs) == 3  # the OpenSearch one is no concern of an Aurora audit
    assert all(k.cluster_address == by_id["kb"].clusters[0].address for k in kbs)
    assert by_id["plain"].knowledge_bases == []
    docs = next(k for k in kbs if k.address.split("/")[-1].startswith("docs"))
    assert docs.table_name.value == "bedrock_integration.bedrock_kb"
    assert docs.origin.api_call == "bedrock:GetKnowledgeBase" and docs.origin.arn == docs.address
    assert docs.credentials_secret_exists is not None and docs.credentials_secret_exists.value is True

    results = _av203(result.deployments)
    assert [f.status for f in _kb_named(results, "docs")] == [Status.PASS]
    [nomap] = _kb_named(results, "nomap")
    assert nomap.status is Status.FAIL and "table_name" in nomap.result.message
    assert "field_mapping.metadata_field" in nomap.result.message
    [nosecret] = _kb_named(results, "nosecret")
    assert nosecret.status is Status.FAIL and f"{missing_secret} does not exist" in nosecret.result.message
    assert nosecret.result.location.api_call == "secretsmanager:DescribeSecret"
    assert not any(k.startswith("vectors") for k in results)  # another vector store: not ours to check

    # AV202 sees the knowledge base's secret too; the secret's value is never asked for.
    assert "secretsmanager:GetSecretValue" not in calls
    counts = Counter(calls)
    assert counts["bedrock:ListKnowledgeBases"] == 1
    assert counts["bedrock:GetKnowledgeBase"] == 4  # one per knowledge base
    assert counts["secretsmanager:DescribeSecret"] == 2  # one per distinct secret


def test_all_reports_knowledge_bases_on_missing_or_foreign_clusters(aws, capsys):
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    make_cluster(rds, "kb", net)
    mysql = rds.create_db_cluster(
        DBClusterIdentifier="legacy", Engine="aurora-mysql", MasterUsername="admin", MasterUserPassword="x" * 12
    )["DBCluster"]
    secret = make_secret(aws.url, REGION)
    make_knowledge_base(aws.url, REGION, "gone", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:gone", secret)
    make_knowledge_base(aws.url, REGION, "mysql", mysql["DBClusterArn"], secret)
    make_knowledge_base(aws.url, REGION, "east", f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:kb", secret)

    code = main(["--live", "--all", "--region", REGION, "--endpoint-url", aws.url, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    doc = json.loads(out)
    av203 = {f["resource"].split("/")[-1][:4]: f for f in doc["findings"] if f["rule_id"] == "AV203"}
    assert av203["gone"]["status"] == "fail" and "no such DB cluster exists in eu-west-1" in av203["gone"]["message"]
    assert av203["mysq"]["status"] == "fail"
    assert "its engine is aurora-mysql, not aurora-postgresql" in av203["mysq"]["message"]
    assert av203["east"]["status"] == "fail" and "names a cluster in us-east-1" in av203["east"]["message"]
    assert {f["root"] for f in av203.values()} == {REGION}  # reported for the region, not for a cluster
    # The Aurora MySQL cluster itself is not audited (only aurora-postgresql clusters are).
    assert not any(f["resource"].endswith(":cluster:legacy") for f in doc["findings"] if f["rule_id"] == "AV101")
    if aws.kind == "plain":  # plain moto has no DescribeDBEngineVersions: a failed call, facts table instead
        assert code == 3 and doc["failed_calls"] == ["rds:DescribeDBEngineVersions"]
    else:
        assert code == 0 and doc["failed_calls"] == []


def test_knowledge_bases_are_paginated(aws):
    rds, ec2 = clients(aws.url, REGION)
    cluster = make_cluster(rds, "kb", make_network(rds, ec2, REGION))
    secret = make_secret(aws.url, REGION)
    for i in range(105):
        make_knowledge_base(aws.url, REGION, f"kb{i:03d}", cluster["DBClusterArn"], secret)
    calls: list[str] = []
    result = audit(
        LiveRequest(all=True, regions=[REGION], connection=connection(aws.url, [lambda r, op: calls.append(op)]))
    )
    [dep] = result.deployments
    assert len(dep.knowledge_bases) == 105
    assert Counter(calls)["bedrock:ListKnowledgeBases"] == 2  # pages of 100
    assert Counter(calls)["secretsmanager:DescribeSecret"] == 1


def test_a_plain_moto_server_gives_a_report_not_a_traceback(aws, capsys):
    """moto without patches answers DescribeDBEngineVersions with an HTML 500: the facts table answers."""
    rds, ec2 = clients(aws.url, REGION)
    make_cluster(rds, "kb", make_network(rds, ec2, REGION))
    code = main(["--live", "--cluster", "kb", "--region", REGION, "--endpoint-url", aws.url, "--show-passed"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert "AV107" in out  # engine support still checked
    if aws.kind == "plain":
        assert code == 3
        assert "rds:DescribeDBEngineVersions failed (HTTPError: HTTP 500" in out
        assert "engine support taken from the facts table" in out
    else:
        assert "AV503" in out and "every AWS call of the audit was answered" in out
