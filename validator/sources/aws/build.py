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
    KnowledgeBase,
    Location,
    Provider,
    RefusedCall,
    Scaling,
    SecurityGroup,
    Subnet,
    SubnetGroup,
    Unknown,
    Value,
)

NOT_REPORTED = "the RDS API does not report it (a Terraform-only setting applied at deletion)"
LIVE_PROVIDER = "a live deployment has no Terraform provider configuration"


@dataclass
class RegionData:
    """Everything fetched in one region, keyed for joining."""

    region: str
    account: str | None = None  # the account read (many accounts); None: the credentials' own
    clusters: list[dict[str, Any]] = field(default_factory=list)
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by cluster id
    subnet_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    subnet_azs: dict[str, str] = field(default_factory=dict)  # subnet id -> AZ (EC2 fallback)
    security_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by group id
    engine_versions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    refused: list[RefusedCall] = field(default_factory=list)
    listing_failed: bool = False  # DescribeDBClusters was refused or failed: the region is unread
    # GetKnowledgeBase answers with RDS storage, and the address of the audited cluster each uses
    # (None: it names no audited cluster; only kept with --all).
    knowledge_bases: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    secrets: dict[str, bool | str] = field(default_factory=dict)  # secret ARN -> exists, or why unknown
    kb_targets: dict[str, str | Unknown] = field(default_factory=dict)  # resource ARN -> what is wrong

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
    return f"arn:{partition}:ec2:{region}:{group.get('OwnerId', '')}:security-group/{group.get('GroupId', '?')}"


def cluster_key(raw: dict[str, Any]) -> str:
    """How a DescribeDBClusters item is named: its ARN, else its identifier, else a placeholder."""
    return str(raw.get("DBClusterArn") or raw.get("DBClusterIdentifier") or "(a cluster AWS reported without a name)")


def _reported(api_call: str, name: str) -> Unknown:
    return Unknown(f"{api_call} did not report {name}")


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).isoformat()
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

        gid = group.get("GroupId", "?")
        for key, cidr_key in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for item in perm.get(key, []):
                cidr = item.get(cidr_key)
                if cidr:
                    add([cidr], f"{gid} {cidr}")
                else:
                    add([_reported("ec2:DescribeSecurityGroups", cidr_key)], f"{gid} ?")  # type: ignore[list-item]
        for item in perm.get("UserIdGroupPairs", []):
            add([], f"{gid} from {item.get('GroupId', '?')}")
        for item in perm.get("PrefixListIds", []):
            add([], f"{gid} from {item.get('PrefixListId', '?')}")
    return rules


def security_group(group: dict[str, Any], region: str, partition: str) -> SecurityGroup:
    arn = security_group_arn(group, region, partition)
    origin = _loc("ec2:DescribeSecurityGroups", arn)
    return SecurityGroup(
        address=group.get("GroupId", "?"),
        origin=origin,
        name=Value(group.get("GroupName", ""), origin),
        ingress=ingress_rules(group, origin),
    )


def instance(raw: dict[str, Any]) -> Instance:
    ident = raw.get("DBInstanceIdentifier")
    arn = raw.get("DBInstanceArn") or ident or "(an instance AWS reported without a name)"
    origin = _loc("rds:DescribeDBInstances", arn)
    return Instance(
        address=arn,
        origin=origin,
        identifier=Value(ident if ident else _reported("rds:DescribeDBInstances", "DBInstanceIdentifier"), origin),
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
    name = raw.get("DBSubnetGroupName")
    arn = raw.get("DBSubnetGroupArn") or name or "(a subnet group AWS reported without a name)"
    origin = _loc("rds:DescribeDBSubnetGroups", arn)
    subnets: list[Subnet] = []
    for item in raw.get("Subnets", []):
        subnet_id = item.get("SubnetIdentifier")
        az = (item.get("SubnetAvailabilityZone") or {}).get("Name")
        az_value: Value[str]
        if not subnet_id:
            subnet_id = "?"
            az_value = Value(az or _reported("rds:DescribeDBSubnetGroups", "SubnetIdentifier"), origin)
        elif az:
            az_value = Value(az, origin)
        elif subnet_id in subnet_azs:
            az_value = Value(subnet_azs[subnet_id], _loc("ec2:DescribeSubnets", subnet_id))
        else:
            az_value = Value(Unknown(f"the Availability Zone of {subnet_id} was not reported"), origin)
        subnets.append(Subnet(address=subnet_id, origin=origin, availability_zone=az_value))
    return SubnetGroup(
        address=arn,
        origin=origin,
        name=Value(name or _reported("rds:DescribeDBSubnetGroups", "DBSubnetGroupName"), origin),
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
        confidence=facts.Confidence.HIGH,
        source=f"rds:DescribeDBEngineVersions {raw.get('DBEngineVersionArn') or region}",
    )
    return reported.over(facts.engine_support(version))


def cluster(raw: dict[str, Any], data: RegionData) -> Cluster:
    """One Cluster with its instances, subnet group and security groups joined in."""
    arn = cluster_key(raw)
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

    cluster_id = raw.get("DBClusterIdentifier")
    secret = raw.get("MasterUserSecret") or {}
    instances_reason = data.unavailable("rds:DescribeDBInstances")
    if not cluster_id and not instances_reason:
        instances_reason = "rds:DescribeDBClusters did not report DBClusterIdentifier, so no instance can be matched"
    if instances_reason:
        instances = [member_only(m, origin, instances_reason) for m in raw.get("DBClusterMembers", [])]
    else:
        instances = [instance(m) for m in data.instances.get(cluster_id or "", [])]
        seen = {i.identifier.raw for i in instances}
        instances += [  # members DescribeDBInstances did not report for this cluster
            member_only(m, origin, "rds:DescribeDBInstances did not report this member of the cluster")
            for m in raw.get("DBClusterMembers", [])
            if m.get("DBInstanceIdentifier") not in seen
        ]

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
    listed = raw.get("VpcSecurityGroups", [])
    ids = [item["VpcSecurityGroupId"] for item in listed if item.get("VpcSecurityGroupId")]
    unnamed = len(listed) - len(ids)
    groups_reason = data.unavailable("ec2:DescribeSecurityGroups")
    for gid in ids:
        if gid in data.security_groups and not groups_reason:
            groups.append(security_group(data.security_groups[gid], data.region, partition))
        else:
            missing.append(gid)
    group_refs = None
    if groups_reason:
        group_refs = v(Unknown(f"security groups {', '.join(ids)}: {groups_reason}"))
    elif unnamed:
        group_refs = v(Unknown(f"{unnamed} security group(s) reported without VpcSecurityGroupId"))
    elif missing:
        group_refs = v(
            Unknown(f"security groups {', '.join(missing)} were not returned by ec2:DescribeSecurityGroups")
        )

    version = raw.get("EngineVersion", "")
    return Cluster(
        address=arn,
        origin=origin,
        identifier=v(cluster_id or _reported("rds:DescribeDBClusters", "DBClusterIdentifier")),
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
        arn=raw.get("DBClusterArn"),
        status=raw.get("Status"),
        region=data.region,
        master_user_secret_arn=secret.get("SecretArn"),
        stopped_since=stopped_since(raw),
        reported_engine_support=engine_support_from_aws(
            version, data.engine_versions.get((raw.get("Engine", ""), version)), data.region
        ),
    )


RDS_CONFIG = "storageConfiguration.rdsConfiguration"
KB_OPTIONAL = ("customMetadataField",)
KB_FIELDS = {
    "primaryKeyField": "primary_key_field",
    "vectorField": "vector_field",
    "textField": "text_field",
    "metadataField": "metadata_field",
    "customMetadataField": "custom_metadata_field",
}


def knowledge_base(raw: dict[str, Any], cluster_address: str | None, data: RegionData) -> KnowledgeBase:
    """A GetKnowledgeBase answer as the model every source fills (AV203 reads it unchanged)."""
    address = str(raw.get("knowledgeBaseArn") or raw.get("knowledgeBaseId") or raw.get("name") or "?")
    origin = _loc("bedrock:GetKnowledgeBase", address)
    storage = raw.get("storageConfiguration") or {}
    rds = storage.get("rdsConfiguration") or {}
    mapping = rds.get("fieldMapping") or {}

    def val(value: Any, name: str = "") -> Value[Any]:
        if value is None and name:  # a member AWS requires, not reported: not known (empty is known)
            return Value(_reported("bedrock:GetKnowledgeBase", name), origin)
        return Value(value if value != "" else None, origin)

    storage_type = storage.get("type")
    secret = rds.get("credentialsSecretArn")
    exists: Value[bool] | None = None
    if secret:
        answer = data.secrets.get(secret, "it was not looked up")
        where = _loc("secretsmanager:DescribeSecret", secret)
        exists = Value(answer, where) if isinstance(answer, bool) else Value(Unknown(str(answer)), where)
    target = rds.get("resourceArn")
    problem: Value[str] | None = None
    if cluster_address is None and target:
        found = data.kb_targets.get(target, Unknown("it was not looked up"))
        problem = Value(found, _loc("rds:DescribeDBClusters", target))
    return KnowledgeBase(
        address=address,
        origin=origin,
        storage_type=Value(storage_type or _reported("bedrock:GetKnowledgeBase", "storageConfiguration.type"), origin),
        resource_arn=val(target, f"{RDS_CONFIG}.resourceArn"),
        credentials_secret_arn=val(secret, f"{RDS_CONFIG}.credentialsSecretArn"),
        database_name=val(rds.get("databaseName"), f"{RDS_CONFIG}.databaseName"),
        table_name=val(rds.get("tableName"), f"{RDS_CONFIG}.tableName"),
        field_mapping={
            snake: val(mapping.get(camel), "" if camel in KB_OPTIONAL else f"{RDS_CONFIG}.fieldMapping.{camel}")
            for camel, snake in KB_FIELDS.items()
        },
        cluster_address=cluster_address or target or None,
        credentials_secret_exists=exists,
        cluster_problem=problem,
        role_arn=val(raw.get("roleArn"), "roleArn"),
        embedding_model_arn=val(
            ((raw.get("knowledgeBaseConfiguration") or {}).get("vectorKnowledgeBaseConfiguration") or {}).get(
                "embeddingModelArn"
            ),
            "knowledgeBaseConfiguration.vectorKnowledgeBaseConfiguration.embeddingModelArn",
        ),
    )


def deployment(raw: dict[str, Any], data: RegionData) -> Deployment:
    """One live Deployment per cluster, rooted at its ARN, with the knowledge bases that use it."""
    model = cluster(raw, data)
    origin = _loc("rds:DescribeDBClusters", model.address)
    dep = Deployment(
        kind="live",
        root=model.address,
        clusters=[model],
        security_groups=list(model.security_groups),
        provider=Provider(
            region=Value(data.region, origin), version_constraint=Value(Unknown(LIVE_PROVIDER))
        ),
        knowledge_bases=[
            knowledge_base(kb, address, data) for kb, address in data.knowledge_bases if address == model.address
        ],
    )
    # Optional calls refused in this region, for the AV503 note.
    dep.refused_calls = list(data.refused)
    dep.account = data.account or arn_account(model.address)
    return dep


def arn_account(arn: str) -> str | None:
    """The account field of an ARN (``arn:aws:rds:eu-west-1:123456789012:cluster:x``), if any."""
    parts = arn.split(":")
    return parts[4] if arn.startswith("arn:") and len(parts) > 5 and parts[4] else None


def region_root(data: RegionData) -> str:
    """How a region is named as a deployment root: ``eu-west-1``, or ``123456789012/eu-west-1``."""
    return f"{data.account}/{data.region}" if data.account else data.region


def region_deployment(data: RegionData, with_refused: bool) -> Deployment | None:
    """What a region holds besides its clusters: knowledge bases that use none of them (--all)
    and, when no cluster carries them, the calls AWS refused or failed there (AV503)."""
    orphans = [knowledge_base(kb, None, data) for kb, address in data.knowledge_bases if address is None]
    refused = list(data.refused) if with_refused else []
    if not orphans and not refused:
        return None
    origin = _loc("rds:DescribeDBClusters", data.region)
    dep = Deployment(
        kind="live",
        root=region_root(data),
        account=data.account,
        knowledge_bases=orphans,
        provider=Provider(region=Value(data.region, origin), version_constraint=Value(Unknown(LIVE_PROVIDER))),
    )
    dep.refused_calls = refused
    return dep
