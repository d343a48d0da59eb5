"""The live source against a real AWS API endpoint (a local moto server over HTTP)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from moto_support import clients, connection, make_cluster, make_network, shared_local_aws

from validator import facts
from validator.demo import LocalAws
from validator.engine import evaluate
from validator.model import Deployment
from validator.rules import Status
from validator.sources.aws.audit import LiveRequest, audit

REGION = "eu-west-1"


@pytest.fixture
def aws():
    server = shared_local_aws()
    server.reset()
    yield server
    server.reset()


def _audit(url: str, **kw) -> tuple[list[Deployment], list[str]]:
    calls: list[str] = []
    kw.setdefault("regions", [REGION])
    result = audit(LiveRequest(connection=connection(url, [lambda region, op: calls.append(op)]), **kw))
    return result.deployments, calls


def _statuses(dep: Deployment) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in evaluate(dep):
        out.setdefault(f.rule_id, set()).add(f.status.value)
    return out


def test_every_cluster_field_comes_from_the_api(aws):
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    ec2.authorize_security_group_ingress(
        GroupId=net.security_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": net.security_group}]},
        ],
    )
    make_cluster(
        rds,
        "kb-store",
        net,
        instances=("db.serverless", "db.r6g.large"),
        Port=5433,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 8, "SecondsUntilAutoPause": 900},
    )
    rds.modify_db_instance(DBInstanceIdentifier="kb-store-2", PubliclyAccessible=True)

    deployments, _ = _audit(aws.url, clusters=["kb-store"])
    assert len(deployments) == 1
    dep = deployments[0]
    c = dep.clusters[0]
    arn = f"arn:aws:rds:{REGION}:123456789012:cluster:kb-store"
    assert dep.kind == "live" and dep.root == arn == c.arn == c.address
    assert (c.engine.value, c.engine_mode.value, c.engine_version.value) == (
        "aurora-postgresql",
        "provisioned",
        "16.6",
    )
    assert c.iam_auth.value is True and c.http_endpoint.value is True
    assert c.manage_master_password.value is True and c.master_user_secret_arn.startswith(
        "arn:aws:secretsmanager:"
    )
    assert c.master_password.value is None  # never visible through the API
    assert c.storage_encrypted.value is True and c.deletion_protection.value is True
    assert c.port.value == 5433 and c.status == "available" and c.region == REGION
    assert not c.skip_final_snapshot.known  # a Terraform-only setting
    assert (c.scaling.min_capacity.value, c.scaling.max_capacity.value) == (0.0, 8.0)
    assert c.scaling.seconds_until_auto_pause.value == 900
    assert [
        (i.identifier.value, i.instance_class.value, i.publicly_accessible.value) for i in c.instances
    ] == [
        ("kb-store-1", "db.serverless", False),
        ("kb-store-2", "db.r6g.large", True),
    ]
    assert c.subnet_group.name.value == net.subnet_group
    assert sorted(s.availability_zone.value for s in c.subnet_group.subnets.value) == [
        f"{REGION}a",
        f"{REGION}c",
    ]
    [sg] = c.security_groups
    assert sg.address == net.security_group
    rules = {
        (r.protocol.value, r.from_port.value, r.to_port.value, tuple(r.cidr_blocks.value)) for r in sg.ingress
    }
    assert rules == {("tcp", 5432, 5432, ("0.0.0.0/0",)), ("tcp", 443, 443, ("::/0",)), ("-1", -1, -1, ())}
    assert dep.provider.region.value == REGION

    # Provenance: every value names the API call and the ARN that reported it.
    assert c.iam_auth.origin.api_call == "rds:DescribeDBClusters" and c.iam_auth.origin.arn == arn
    assert c.instances[1].instance_class.origin.api_call == "rds:DescribeDBInstances"
    assert c.instances[1].instance_class.origin.arn.endswith(":db:kb-store-2")
    assert c.subnet_group.origin.api_call == "rds:DescribeDBSubnetGroups"
    assert sg.ingress[0].origin.api_call == "ec2:DescribeSecurityGroups"
    assert sg.ingress[0].origin.arn.endswith(f":security-group/{net.security_group}")

    statuses = _statuses(dep)
    assert statuses["AV103"] == {"pass", "fail"}  # the serverless writer, the provisioned reader
    assert statuses["AV303"] == {"pass", "fail"}  # one public instance of two
    assert statuses["AV301"] == {"pass"}  # 5432 is open to the world, but the cluster listens on 5433
    assert statuses["AV401"] == {"fail"}
    assert "AV302" not in statuses  # a password is a configuration matter: never visible live
    assert statuses["AV105"] == {"pass"} and statuses["AV106"] == {"pass"} and statuses["AV201"] == {"pass"}
    assert statuses["AV501"] == {"pass"} and statuses["AV503"] == {"pass"}
    assert "AV502" not in statuses  # no Terraform given


def test_stopped_cluster_says_when_aws_starts_it_again(aws):
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    make_cluster(
        rds,
        "paused-by-hand",
        net,
        EngineVersion="15.4",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
    )
    make_cluster(rds, "running", net)
    rds.stop_db_cluster(DBClusterIdentifier="paused-by-hand")
    restart = rds.describe_db_clusters(DBClusterIdentifier="paused-by-hand")["DBClusters"][0][
        "AutomaticRestartTime"
    ]

    deployments, _ = _audit(aws.url, all=True)
    by_id = {d.clusters[0].identifier.value: d for d in deployments}
    stopped = [f for f in evaluate(by_id["paused-by-hand"]) if f.rule_id == "AV501"]
    assert [f.status for f in stopped] == [Status.FAIL]
    message = stopped[0].result.message
    assert restart.strftime("%Y-%m-%d %H:%M UTC") in message
    assert "15.4 does not support it; it needs 15.7 or later" in message
    running = [f for f in evaluate(by_id["running"]) if f.rule_id == "AV501"]
    assert [f.status for f in running] == [Status.PASS]


def test_more_clusters_than_one_page_cost_pages_not_clusters(aws):
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    for i in range(125):
        make_cluster(rds, f"tenant-{i:03d}", net)
    # A MySQL cluster is not audited by --all.
    rds.create_db_cluster(
        DBClusterIdentifier="mysql-app",
        Engine="aurora-mysql",
        MasterUsername="a",
        MasterUserPassword="secret123",
    )

    deployments, calls = _audit(aws.url, all=True)
    assert len(deployments) == 125
    assert len({d.root for d in deployments}) == 125
    assert all(len(d.clusters[0].instances) == 1 for d in deployments)
    counts = Counter(calls)
    # 125 clusters and 125 instances are two pages of 100 each; the rest is one call per region.
    assert counts == {
        "rds:DescribeDBClusters": 2,
        "rds:DescribeDBInstances": 2,
        "rds:DescribeDBSubnetGroups": 1,
        "ec2:DescribeSecurityGroups": 1,
        "rds:DescribeDBEngineVersions": 1,
        "bedrock:ListKnowledgeBases": 1,  # no knowledge base: one empty page
    }

    named = [f"tenant-{i:03d}" for i in range(0, 125, 2)]
    deployments, calls = _audit(aws.url, clusters=named)
    assert sorted(d.clusters[0].identifier.value for d in deployments) == named
    assert Counter(calls)["rds:DescribeDBClusters"] == 2  # 63 names: two filter chunks of up to 50


def test_regions_are_read_concurrently(aws):
    regions = ["us-east-1", "eu-central-1", "ap-northeast-1"]
    for n, region in enumerate(regions):
        rds, ec2 = clients(aws.url, region)
        net = make_network(rds, ec2, region)
        for i in range(n + 2):
            make_cluster(rds, f"{region}-{i}", net)
    threads: set[str] = set()
    lock = threading.Lock()

    def record(region: str, op: str) -> None:
        with lock:
            threads.add(threading.current_thread().name)

    result = audit(LiveRequest(all=True, regions=regions, connection=connection(aws.url, [record])))
    found = Counter(d.clusters[0].region for d in result.deployments)
    assert found == {"us-east-1": 2, "eu-central-1": 3, "ap-northeast-1": 4}
    assert all(d.clusters[0].arn.split(":")[3] == d.clusters[0].region for d in result.deployments)
    assert len(threads) == 3 and all(t.startswith("live-region") for t in threads)


def test_cluster_arn_selects_its_region(aws):
    rds, ec2 = clients(aws.url, "us-west-2")
    make_cluster(rds, "by-arn", make_network(rds, ec2, "us-west-2"))
    arn = "arn:aws:rds:us-west-2:123456789012:cluster:by-arn"
    result = audit(LiveRequest(clusters=[arn], connection=connection(aws.url)))
    assert [d.root for d in result.deployments] == [arn]
    assert result.regions == ["us-west-2"]


def test_aws_answer_about_the_engine_wins_over_the_facts_table():
    """The local API is told to report 128 ACU at most for 16.6; the facts table says 256."""
    assert facts.engine_support("16.6").max_acu == 256
    overrides = {"16.6": {"ServerlessV2FeaturesSupport": {"MinCapacity": 0.5, "MaxCapacity": 128}}}
    with LocalAws(engine_overrides=overrides) as local:
        rds, ec2 = clients(local.url, REGION)
        net = make_network(rds, ec2, REGION)
        make_cluster(
            rds, "big", net, ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 200}
        )
        make_cluster(rds, "pausing", net)  # min 0: the facts table allows it on 16.6, AWS (here) does not
        deployments, _ = _audit(local.url, all=True)
    by_id = {d.clusters[0].identifier.value: d for d in deployments}
    support = by_id["big"].clusters[0].reported_engine_support
    assert support.max_acu == 128 and support.auto_pause is False
    assert support.source.startswith("rds:DescribeDBEngineVersions")
    big = [f for f in evaluate(by_id["big"]) if f.rule_id == "AV104"]
    assert Status.FAIL in {f.status for f in big} and any("128" in f.result.message for f in big)
    pausing = [f for f in evaluate(by_id["pausing"]) if f.rule_id == "AV104"]
    assert Status.FAIL in {f.status for f in pausing}
