"""Rules AV101-AV404 on model objects built directly: cases a Terraform file cannot express.

Live-only inputs (AWS's own engine answer, a managed secret ARN, a region on the
cluster), partial references and bad constraint strings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from validator.engine import evaluate
from validator.facts import EngineSupport
from validator.model import (
    Cluster,
    Deployment,
    IngressRule,
    Instance,
    KnowledgeBase,
    Location,
    Provider,
    Scaling,
    SecurityGroup,
    Subnet,
    SubnetGroup,
    Unknown,
    Value,
)
from validator.rules import Status, get_rule

AT = Location("main.tf", 10)


def v(raw: Any, line: int = 10, **kw: Any) -> Value:
    return Value(raw, Location("main.tf", line), **kw)


def unknown(reason: str, line: int = 10, refs: tuple[str, ...] = ()) -> Value:
    return Value(Unknown(reason, refs), Location("main.tf", line))


def subnet(name: str, zone: Any) -> Subnet:
    return Subnet(f"aws_subnet.{name}", AT, zone if isinstance(zone, Value) else v(zone))


def cluster(**changes: Any) -> Cluster:
    base = Cluster(
        address="aws_rds_cluster.kb",
        origin=Location("main.tf", 1),
        identifier=v("kb-store", 2),
        engine=v("aurora-postgresql", 3),
        engine_mode=v("provisioned", 4),
        engine_version=v("16.6", 5),
        iam_auth=v(True, 6),
        http_endpoint=v(True, 7),
        manage_master_password=v(True, 8),
        master_username=v("postgres", 9),
        master_password=v(None, 1, defaulted=True),
        storage_encrypted=v(True, 11),
        deletion_protection=v(False, 1, defaulted=True),
        skip_final_snapshot=v(True, 12),
        final_snapshot_identifier=v(None, 1, defaulted=True),
        scaling=Scaling(v(0, 14), v(4, 15), v(None, 13, defaulted=True), Location("main.tf", 13)),
        port=v(5432, 1, defaulted=True),
        instances=[
            Instance(
                "aws_rds_cluster_instance.w",
                Location("main.tf", 20),
                v("kb-1", 21),
                v("db.serverless", 22),
                v(False, 20, defaulted=True),
                v("aurora-postgresql", 23),
            )
        ],
        subnet_group=SubnetGroup(
            "aws_db_subnet_group.db",
            Location("main.tf", 30),
            v("kb-db", 31),
            v([subnet("a", "us-east-1a"), subnet("b", "us-east-1b")], 32),
        ),
        security_groups=[SecurityGroup("aws_security_group.db", Location("main.tf", 40), v("db", 41), [])],
        security_group_refs=v(["aws_security_group.db"], 16),
    )
    return replace(base, **changes)


def deployment(*clusters: Cluster, kind: str = "hcl", **changes: Any) -> Deployment:
    d = Deployment(
        kind=kind,
        root="root",
        clusters=list(clusters),
        provider=Provider(v("us-east-1", 50), v(">= 5.81.0", 51), Location("main.tf", 49)),
    )
    return replace(d, **changes)


def results(rule_id: str, d: Deployment) -> list[tuple[Status, str, Location]]:
    rule = get_rule(rule_id)
    assert rule is not None
    return [(r.status, r.message, r.location) for r in rule.check(d)]


def statuses(rule_id: str, d: Deployment) -> list[Status]:
    return [s for s, _, _ in results(rule_id, d)]


# --------------------------------------------------------------------------- #
# AWS's own answer about the engine version


def test_reported_engine_support_is_preferred_over_the_table() -> None:
    # The table says 16.6 allows 256 ACU; AWS says 128 for this cluster's platform.
    reported = EngineSupport("16.6", True, 128.0, 0.0, True, "0.8.0", True, True, "H", "rds:DescribeDBEngineVersions")
    c = cluster(scaling=Scaling(v(0, 14), v(200, 15), v(None, 13, defaulted=True)), reported_engine_support=reported)
    [(status, message, location)] = results("AV104", deployment(c, kind="live"))
    assert status is Status.FAIL and "above 128 ACU" in message and location.line == 15
    assert statuses("AV104", deployment(replace(c, reported_engine_support=None))) == [Status.PASS]


def test_reported_support_fills_an_unknown_major() -> None:
    reported = EngineSupport("18.1", True, 256.0, 0.0, True, "0.8.1", True, True, "H", "rds:DescribeDBEngineVersions")
    c = cluster(engine_version=v("18.1", 5), reported_engine_support=reported)
    assert statuses("AV107", deployment(c)) == [Status.PASS]
    assert statuses("AV107", deployment(replace(c, reported_engine_support=None))) == [Status.UNRESOLVED]


def test_engine_version_left_out_is_unresolved_with_the_reason() -> None:
    c = cluster(engine_version=v(None, 1, defaulted=True))
    [(status, message, location)] = results("AV107", deployment(c))
    assert status is Status.UNRESOLVED and "left out" in message and location.line == 1


def test_versions_of_other_engines_are_not_judged() -> None:
    c = cluster(engine=v("aurora-mysql", 3), engine_version=v("8.0.mysql_aurora.3.08.0", 5))
    assert statuses("AV101", deployment(c)) == [Status.FAIL]
    assert statuses("AV107", deployment(c)) == []


# --------------------------------------------------------------------------- #
# Live-only values


def test_managed_secret_arn_from_aws_passes_av202() -> None:
    c = cluster(manage_master_password=v(False, 1, defaulted=True), master_user_secret_arn="arn:aws:secretsmanager:x")
    assert statuses("AV202", deployment(c, kind="live")) == [Status.PASS]


def test_av402_uses_the_cluster_region_from_aws() -> None:
    c = cluster(scaling=Scaling(v(0.5, 14), v(4, 15), v(None, 13, defaulted=True)), region="ap-northeast-1")
    [(status, message, _)] = results("AV402", deployment(c, kind="live", provider=None))
    assert status is Status.FAIL and "$73.00" in message and "ap-northeast-1" in message


def test_av402_without_a_price_still_reports_the_floor_in_acu() -> None:
    c = cluster(scaling=Scaling(v(1, 14), v(4, 15), v(None, 13, defaulted=True)))
    d = deployment(c, provider=Provider(v("eu-west-3", 50), v(">= 5.81.0", 51)))
    [(status, message, _)] = results("AV402", d)
    assert status is Status.FAIL and "no price on record for eu-west-3" in message


def test_static_only_rules_do_not_run_on_live_models() -> None:
    ids = {f.rule_id for f in evaluate(deployment(cluster(), kind="live"))}
    assert {"AV101", "AV104", "AV301"} <= ids
    assert not ids & {"AV108", "AV302", "AV403", "AV404"}


# --------------------------------------------------------------------------- #
# Partial knowledge


def test_two_known_zones_pass_even_with_an_unknown_third_subnet() -> None:
    group = SubnetGroup(
        "aws_db_subnet_group.db",
        AT,
        v("kb-db"),
        v([subnet("a", "us-east-1a"), None, subnet("b", "us-east-1b")]),
    )
    assert statuses("AV105", deployment(cluster(subnet_group=group))) == [Status.PASS]


def test_one_known_zone_and_an_unknown_subnet_is_unresolved() -> None:
    group = SubnetGroup(
        "aws_db_subnet_group.db",
        AT,
        v("kb-db"),
        v([subnet("a", "us-east-1a"), subnet("b", unknown("subnet-b is read from AWS"))]),
    )
    [(status, message, _)] = results("AV105", deployment(cluster(subnet_group=group)))
    assert status is Status.UNRESOLVED and "subnet-b is read from AWS" in message


def test_a_subnet_group_outside_the_configuration_is_unresolved() -> None:
    c = cluster(subnet_group=None, subnet_group_ref=v("shared-db-subnets", 17))
    [(status, message, location)] = results("AV105", deployment(c))
    assert status is Status.UNRESOLVED and "'shared-db-subnets'" in message and location.line == 17


def test_unknown_security_group_references_leave_av301_unresolved() -> None:
    c = cluster(security_groups=[], security_group_refs=unknown("security group sg-123 is not declared", 16))
    [(status, message, _)] = results("AV301", deployment(c))
    assert status is Status.UNRESOLVED and "sg-123" in message


def test_open_all_traffic_fails_even_when_the_port_is_unknown() -> None:
    rule = IngressRule(v(0), v(0), v("-1"), v(["0.0.0.0/0"]), Location("main.tf", 44))
    sg = SecurityGroup("aws_security_group.db", AT, v("db"), [rule])
    c = cluster(port=unknown("var.port has no default"), security_groups=[sg])
    [(status, message, location)] = results("AV301", deployment(c))
    assert status is Status.FAIL and "all ports" in message and location.line == 44


def test_a_found_failure_wins_over_an_unknown_rule() -> None:
    open_rule = IngressRule(v(5432), v(5432), v("tcp"), v(["::/0"]), Location("main.tf", 44))
    unknown_rule = IngressRule(v(5432), v(5432), v("tcp"), unknown("var.cidrs has no default"), Location("main.tf", 46))
    sg = SecurityGroup("aws_security_group.db", AT, v("db"), [unknown_rule, open_rule])
    assert statuses("AV301", deployment(cluster(security_groups=[sg]))) == [Status.FAIL]


def test_master_password_computed_from_a_resource_passes() -> None:
    c = cluster(master_password=unknown("known only after apply", 9, refs=("random_password.db",)))
    assert statuses("AV302", deployment(c)) == [Status.PASS]


def test_literal_password_is_named_by_place_never_by_value() -> None:
    c = cluster(master_password=Value("tiger111!", Location("vars.tf", 3, via="default of var.pw"), literal=True))
    [(status, message, location)] = results("AV302", deployment(c))
    assert status is Status.FAIL and "tiger" not in message and "vars.tf:3" in message and "var.pw" in message
    assert location == Location("vars.tf", 3, via="default of var.pw")


# --------------------------------------------------------------------------- #
# Capacity edge cases


def test_capacity_edges() -> None:
    def check(lo: Any, hi: Any, version: str = "16.6") -> list[Status]:
        c = cluster(engine_version=v(version, 5), scaling=Scaling(v(lo, 14), v(hi, 15), v(None, 13, defaulted=True)))
        return statuses("AV104", deployment(c))

    assert check(0.5, 1) == [Status.PASS]
    assert check(0.5, 0.5) == [Status.FAIL]  # the maximum is at least 1 ACU
    assert check(0, 257) == [Status.FAIL]
    assert check(-1, 4) == [Status.FAIL]
    assert check("four", 4) == [Status.FAIL]
    assert check(0.5, 256, "15.4") == [Status.FAIL]
    assert check(0.5, 256, "15.5") == [Status.PASS]
    assert check(0.5, 128, "15.4") == [Status.PASS]


def test_engine_mode_other_than_provisioned_fails() -> None:
    [(status, message, _)] = results("AV102", deployment(cluster(engine_mode=v("parallelquery", 4))))
    assert status is Status.FAIL and "'parallelquery'" in message


# --------------------------------------------------------------------------- #
# Knowledge bases


def kb(**changes: Any) -> KnowledgeBase:
    base = KnowledgeBase(
        "aws_bedrockagent_knowledge_base.kb",
        Location("kb.tf", 1),
        storage_type=v("RDS", 2),
        resource_arn=v("arn:aws:rds:us-east-1:123456789012:cluster:kb-store", 3),
        credentials_secret_arn=unknown("known only after apply", 4, refs=("aws_secretsmanager_secret.kb",)),
        database_name=v("postgres", 5),
        table_name=v("bedrock_integration.bedrock_kb", 6),
        field_mapping={n: v(n, 7) for n in ("primary_key_field", "vector_field", "text_field", "metadata_field")},
        cluster_address="aws_rds_cluster.kb",
    )
    return replace(base, **changes)


def test_av203_cluster_address_must_exist() -> None:
    d = deployment(cluster(), knowledge_bases=[kb(cluster_address="aws_rds_cluster.gone")])
    [(status, message, _)] = results("AV203", d)
    assert status is Status.FAIL and "aws_rds_cluster.gone" in message


def test_av203_ignores_other_vector_stores_and_passes_a_complete_one() -> None:
    assert statuses("AV203", deployment(cluster(), knowledge_bases=[kb(storage_type=v("OPENSEARCH_SERVERLESS"))])) == []
    assert statuses("AV203", deployment(cluster(), knowledge_bases=[kb()])) == [Status.PASS]


def test_av202_passes_through_a_knowledge_base_secret() -> None:
    c = cluster(manage_master_password=v(False, 1, defaulted=True))
    assert statuses("AV202", deployment(c)) == [Status.FAIL]
    assert statuses("AV202", deployment(c, knowledge_bases=[kb()])) == [Status.PASS]


# --------------------------------------------------------------------------- #
# Provider constraint


def test_av404_cases() -> None:
    def check(constraint: Value, used: set[str], c: Cluster | None = None) -> list[tuple[Status, str, Location]]:
        c = c or cluster()
        d = deployment(c, provider=Provider(v("us-east-1", 50), constraint, Location("main.tf", 49)))
        d.arguments_used[c.address] = used
        return results("AV404", d)

    [(status, message, location)] = check(
        v("~> 5.0", 51), {"serverlessv2_scaling_configuration.min_capacity", "min_capacity=0"}
    )
    assert status is Status.FAIL and "5.80.0" in message and location.line == 51
    [(status, _, _)] = check(v("~> 5.0", 51), {"engine", "tags"})
    assert status is Status.PASS
    [(status, message, location)] = check(v(">= banana", 51), {"min_capacity=0"})
    assert status is Status.UNRESOLVED and "banana" in message
    [(status, message, location)] = check(v(None, 49, defaulted=True), {"min_capacity=0"})
    assert status is Status.FAIL and "no version constraint" in message and location.line == 49
    # enable_http_endpoint = false does not need 5.64.0; true does.
    off = cluster(http_endpoint=v(False, 7))
    [(status, _, _)] = check(v(">= 5.12.0", 51), {"enable_http_endpoint"}, off)
    assert status is Status.PASS
    [(status, message, _)] = check(v(">= 5.12.0", 51), {"enable_http_endpoint"})
    assert status is Status.FAIL and "5.64.0" in message
