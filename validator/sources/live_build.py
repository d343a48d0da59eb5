"""Turn AWS API answers (plain dicts, as boto3 returns them) into the model.

Pure functions: no AWS call here. Every value's origin names the API call and
the ARN that reported it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from validator import facts
from validator.model import (
    Cluster,
    Deployment,
    IngressRule,
    Instance,
    Location,
    Provider,
    Scaling,
    SecurityGroup,
    Subnet,
    SubnetGroup,
    Unknown,
    Value,
)

NOT_REPORTED = "the RDS API does not report it (a Terraform-only setting applied at deletion)"
LIVE_PROVIDER = "a live deployment has no Terraform provider configuration"


@dataclass(frozen=True)
class RefusedCall:
    """An optional AWS call the audit could not make, and what it did instead."""

    operation: str
    code: str
    region: str
    consequence: str
    denied: bool = True  # AWS refused the permission; False: the call failed otherwise

    @property
    def reason(self) -> str:
        what = "was refused" if self.denied else "failed"
        return f"{self.operation} {what} ({self.code}) in {self.region}"


@dataclass
class RegionData:
    """Everything fetched in one region, keyed for joining."""

    region: str
    clusters: list[dict[str, Any]] = field(default_factory=list)
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by cluster id
    subnet_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    subnet_azs: dict[str, str] = field(default_factory=dict)  # subnet id -> AZ (EC2 fallback)
    security_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by group id
    engine_versions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    refused: list[RefusedCall] = field(default_factory=list)

    def unavailable(self, operation: str) -> str | None:
        """Why the values ``operation`` gives are unknown, or None when it answered."""
        for item in self.refused:
            if item.operation == operation:
                return item.reason
        return None


def _loc(api_call: str, arn: str | None) -> Location:
    return Location(api_call=api_call, arn=arn)


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def security_group_arn(group: dict[str, Any], region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:ec2:{region}:{group.get('OwnerId', '')}:security-group/{group['GroupId']}"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def stopped_since(cluster: dict[str, Any]) -> str | None:
    """When the cluster was stopped: AWS reports the automatic restart time, seven days later."""
    restart = cluster.get("AutomaticRestartTime")
    if cluster.get("Status") != "stopped" or not isinstance(restart, dt.datetime):
        return None
    if restart.tzinfo is None:
        restart = restart.replace(tzinfo=dt.UTC)
    return _iso(restart - dt.timedelta(days=facts.STOPPED_CLUSTER_RESTART_DAYS))


def ingress_rules(group: dict[str, Any], origin: Location) -> list[IngressRule]:
    """One IngressRule per CIDR range, IPv6 range, referenced group or prefix list."""
    rules: list[IngressRule] = []
    for perm in group.get("IpPermissions", []):
        proto = str(perm.get("IpProtocol", "-1"))
        lo = int(perm.get("FromPort", -1) if proto not in ("-1", "all") else -1)
        hi = int(perm.get("ToPort", -1) if proto not in ("-1", "all") else -1)

        def add(cidrs: list[str], source: str, proto: str = proto, lo: int = lo, hi: int = hi) -> None:
            rules.append(
                IngressRule(
                    from_port=Value(lo, origin),
                    to_port=Value(hi, origin),
                    protocol=Value(proto, origin),
                    cidr_blocks=Value(cidrs, origin),
                    origin=origin,
                    source=source,
                )
            )

        for item in perm.get("IpRanges", []):
            add([item["CidrIp"]], f"{group['GroupId']} {item['CidrIp']}")
        for item in perm.get("Ipv6Ranges", []):
            add([item["CidrIpv6"]], f"{group['GroupId']} {item['CidrIpv6']}")
        for item in perm.get("UserIdGroupPairs", []):
            add([], f"{group['GroupId']} from {item.get('GroupId', '?')}")
        for item in perm.get("PrefixListIds", []):
            add([], f"{group['GroupId']} from {item.get('PrefixListId', '?')}")
    return rules


def security_group(group: dict[str, Any], region: str, partition: str) -> SecurityGroup:
    arn = security_group_arn(group, region, partition)
    origin = _loc("ec2:DescribeSecurityGroups", arn)
    return SecurityGroup(
        address=group["GroupId"],
        origin=origin,
        name=Value(group.get("GroupName", ""), origin),
        ingress=ingress_rules(group, origin),
    )


def instance(raw: dict[str, Any]) -> Instance:
    arn = raw.get("DBInstanceArn") or raw["DBInstanceIdentifier"]
    origin = _loc("rds:DescribeDBInstances", arn)
    return Instance(
        address=arn,
        origin=origin,
        identifier=Value(raw["DBInstanceIdentifier"], origin),
        instance_class=Value(raw.get("DBInstanceClass", ""), origin),
        publicly_accessible=Value(bool(raw.get("PubliclyAccessible", False)), origin),
        engine=Value(raw.get("Engine", ""), origin),
    )


def member_only(member: dict[str, Any], origin: Location, reason: str) -> Instance:
    """An instance known only by its membership (DescribeDBClusters), its settings unknown."""
    ident = member.get("DBInstanceIdentifier", "?")
    unknown: Value[Any] = Value(Unknown(reason), origin)
    return Instance(
        address=ident,
        origin=origin,
        identifier=Value(ident, origin),
        instance_class=unknown,
        publicly_accessible=unknown,
        engine=unknown,
    )


def subnet_group(raw: dict[str, Any], subnet_azs: dict[str, str]) -> SubnetGroup:
    arn = raw.get("DBSubnetGroupArn") or raw["DBSubnetGroupName"]
    origin = _loc("rds:DescribeDBSubnetGroups", arn)
    subnets: list[Subnet] = []
    for item in raw.get("Subnets", []):
        subnet_id = item["SubnetIdentifier"]
        az = (item.get("SubnetAvailabilityZone") or {}).get("Name")
        az_value: Value[str]
        if az:
            az_value = Value(az, origin)
        elif subnet_id in subnet_azs:
            az_value = Value(subnet_azs[subnet_id], _loc("ec2:DescribeSubnets", subnet_id))
        else:
            az_value = Value(Unknown(f"the Availability Zone of {subnet_id} was not reported"), origin)
        subnets.append(Subnet(address=subnet_id, origin=origin, availability_zone=az_value))
    return SubnetGroup(
        address=arn,
        origin=origin,
        name=Value(raw["DBSubnetGroupName"], origin),
        subnets=Value(subnets, origin),
    )


def engine_support_from_aws(version: str, raw: dict[str, Any] | None, region: str) -> Any:
    """AWS's own answer about an engine version (EngineSupport), gaps filled from the facts table."""
    if raw is None:
        return None
    features = raw.get("ServerlessV2FeaturesSupport")
    if not features:
        return None  # AWS said nothing about Serverless v2: keep the facts table's answer
    min_cap = features.get("MinCapacity")
    max_cap = features.get("MaxCapacity")
    reported = facts.EngineSupport(
        version=version,
        serverless_v2=True,
        max_acu=float(max_cap) if max_cap is not None else None,
        min_acu_floor=float(min_cap) if min_cap is not None else None,
        auto_pause=(float(min_cap) == 0.0) if min_cap is not None else None,
        pgvector=None,  # DescribeDBEngineVersions does not name the pgvector version
        data_api=None,
        bedrock_kb=None,
        confidence="H",
        source=f"rds:DescribeDBEngineVersions {raw.get('DBEngineVersionArn') or region}",
    )
    return reported.over(facts.engine_support(version))


def cluster(raw: dict[str, Any], data: RegionData) -> Cluster:
    """One Cluster with its instances, subnet group and security groups joined in."""
    arn = raw["DBClusterArn"]
    origin = _loc("rds:DescribeDBClusters", arn)
    partition = _partition(arn)

    def v(value: Any) -> Value[Any]:
        return Value(value, origin)

    scaling = None
    sv2 = raw.get("ServerlessV2ScalingConfiguration")
    if sv2:
        pause = sv2.get("SecondsUntilAutoPause")
        scaling = Scaling(
            min_capacity=v(float(sv2["MinCapacity"])) if "MinCapacity" in sv2 else v(Unknown("not reported")),
            max_capacity=v(float(sv2["MaxCapacity"])) if "MaxCapacity" in sv2 else v(Unknown("not reported")),
            seconds_until_auto_pause=v(int(pause))
            if pause is not None
            else Value(None, origin, defaulted=True),
            origin=origin,
        )

    cluster_id = raw["DBClusterIdentifier"]
    secret = raw.get("MasterUserSecret") or {}
    instances_reason = data.unavailable("rds:DescribeDBInstances")
    if instances_reason:
        instances = [member_only(m, origin, instances_reason) for m in raw.get("DBClusterMembers", [])]
    else:
        instances = [instance(m) for m in data.instances.get(cluster_id, [])]

    group_name = raw.get("DBSubnetGroup")
    sg_model = None
    sg_ref = None
    subnets_reason = data.unavailable("rds:DescribeDBSubnetGroups")
    if subnets_reason:
        sg_ref = v(Unknown(f"DB subnet group {group_name!r}: {subnets_reason}"))
    elif group_name and group_name in data.subnet_groups:
        sg_model = subnet_group(data.subnet_groups[group_name], data.subnet_azs)
    else:
        sg_ref = v(Unknown(f"DB subnet group {group_name!r} was not returned by rds:DescribeDBSubnetGroups"))

    groups: list[SecurityGroup] = []
    missing: list[str] = []
    ids = [item["VpcSecurityGroupId"] for item in raw.get("VpcSecurityGroups", [])]
    groups_reason = data.unavailable("ec2:DescribeSecurityGroups")
    for gid in ids:
        if gid in data.security_groups and not groups_reason:
            groups.append(security_group(data.security_groups[gid], data.region, partition))
        else:
            missing.append(gid)
    group_refs = None
    if groups_reason:
        group_refs = v(Unknown(f"security groups {', '.join(ids)}: {groups_reason}"))
    elif missing:
        group_refs = v(
            Unknown(f"security groups {', '.join(missing)} were not returned by ec2:DescribeSecurityGroups")
        )

    version = raw.get("EngineVersion", "")
    return Cluster(
        address=arn,
        origin=origin,
        identifier=v(cluster_id),
        engine=v(raw.get("Engine", "")),
        engine_mode=v(raw.get("EngineMode") or facts.ENGINE_MODE),
        engine_version=v(version),
        iam_auth=v(bool(raw.get("IAMDatabaseAuthenticationEnabled", False))),
        http_endpoint=v(bool(raw.get("HttpEndpointEnabled", False))),
        manage_master_password=v(bool(secret)),
        master_username=v(raw.get("MasterUsername", "")),
        master_password=v(None),  # never visible through the API
        storage_encrypted=v(bool(raw.get("StorageEncrypted", False))),
        deletion_protection=v(bool(raw.get("DeletionProtection", False))),
        skip_final_snapshot=v(Unknown(NOT_REPORTED)),
        final_snapshot_identifier=v(Unknown(NOT_REPORTED)),
        scaling=scaling,
        port=v(int(raw.get("Port") or facts.DEFAULT_PORT)),
        instances=instances,
        subnet_group=sg_model,
        subnet_group_ref=sg_ref,
        security_groups=groups,
        security_group_refs=group_refs,
        arn=arn,
        status=raw.get("Status"),
        region=data.region,
        master_user_secret_arn=secret.get("SecretArn"),
        stopped_since=stopped_since(raw),
        reported_engine_support=engine_support_from_aws(
            version, data.engine_versions.get((raw.get("Engine", ""), version)), data.region
        ),
    )


def deployment(raw: dict[str, Any], data: RegionData) -> Deployment:
    """One live Deployment per cluster, rooted at its ARN."""
    model = cluster(raw, data)
    origin = _loc("rds:DescribeDBClusters", model.arn)
    dep = Deployment(
        kind="live",
        root=model.address,
        clusters=[model],
        security_groups=list(model.security_groups),
        provider=Provider(
            region=Value(data.region, origin), version_constraint=Value(Unknown(LIVE_PROVIDER))
        ),
        secrets=[model.master_user_secret_arn] if model.master_user_secret_arn else [],
    )
    # Optional calls refused in this region, for the AV503 note.
    dep.refused_calls = list(data.refused)
    return dep
