"""Terraform resource records to the model: one mapping for HCL and plan JSON.

The AWS provider's defaults for arguments left out live here, next to the
mapping, because they are part of what a Terraform configuration means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    Scaling,
    Secret,
    SecurityGroup,
    Subnet,
    SubnetGroup,
    Unknown,
    Value,
    missing,
)
from validator.sources.terraform.iam import IAM_TYPES, build_roles, link_role
from validator.sources.terraform.records import DYNAMIC_UNKNOWN, Record, RefStr, refs_of

MODEL_TYPES = IAM_TYPES | frozenset(
    {
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_db_subnet_group",
        "aws_subnet",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_bedrockagent_knowledge_base",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
        facts.DEFAULT_SECURITY_GROUP_TYPE,
    }
)
# Data sources a master password may be read back from: the credentials are in Secrets Manager.
SECRET_DATA_SOURCES = ("data.aws_secretsmanager_secret_version.",)
# Resources generating a password that a secret version of the configuration may store.
GENERATED_PASSWORDS = ("random_password.", "data.aws_secretsmanager_random_password.")

# aws_rds_cluster arguments left out: the provider's defaults (provider 5.x docs).
CLUSTER_DEFAULTS: dict[str, Any] = {
    "engine_mode": facts.ENGINE_MODE,
    "iam_database_authentication_enabled": False,
    "enable_http_endpoint": False,
    "manage_master_user_password": False,
    "storage_encrypted": False,  # for provisioned clusters; see facts.STORAGE_ENCRYPTED_DEFAULT
    "deletion_protection": False,
    "skip_final_snapshot": False,
    "final_snapshot_identifier": None,
    "port": facts.DEFAULT_PORT,
    "master_password": None,
    "master_username": None,
    "engine": None,
    "engine_version": None,
    "cluster_identifier": None,  # Terraform generates a valid one
}
INSTANCE_DEFAULTS: dict[str, Any] = {
    "publicly_accessible": False,
    "identifier": None,
    "instance_class": None,
    "engine": None,
}
SECONDS_UNTIL_AUTO_PAUSE_DEFAULT = facts.AUTO_PAUSE_SECONDS_DEFAULT
# The start of an Unknown reason the evaluator gives for an expression it could not evaluate.
EVAL_ERROR = re.compile(r"^line \d+: ")


@dataclass
class ProviderSettings:
    region: Value[Any] | None = None
    constraints: list[Value[Any]] = field(default_factory=list)
    origin: Location | None = None


def _strip_index(address: str) -> str:
    return address.split("[", 1)[0] if address.endswith("]") else address


def _matches(ref: str, address: str) -> bool:
    """A reference names a resource instance, or all instances of a counted resource."""
    return ref == address or _strip_index(address) == ref


def _get(rec: Record, name: str) -> Value[Any] | None:
    """An argument of a record; unknown for every name when it stands for unexpandable dynamic blocks."""
    v = rec.get(name)
    return v if v is not None else rec.get(DYNAMIC_UNKNOWN)


def _value(rec: Record, name: str, defaults: dict[str, Any]) -> Value[Any]:
    v = _get(rec, name)
    if v is None:
        return missing(defaults.get(name), rec.origin)
    return v


def _plain(v: Value[Any]) -> Value[Any]:
    """Drop reference wrappers from a known string so rules see plain values."""
    if isinstance(v.raw, RefStr):
        return Value(str(v.raw), v.origin, v.defaulted, v.literal)
    return v


def _secret(v: Value[Any]) -> Value[Any]:
    failed = EVAL_ERROR.match(v.raw.reason) if isinstance(v.raw, Unknown) else None
    if failed:
        # An evaluation error may quote the value it failed on: keep only where it happened.
        reason = f"{failed.group(0)}the expression cannot be evaluated (details withheld: they may quote the password)"
        return Value(Unknown(reason, v.raw.refs), v.origin, v.defaulted, v.literal)
    if isinstance(v.raw, str):
        return Value(Secret(v.raw), v.origin, v.defaulted, v.literal)
    if v.raw is not None and not isinstance(v.raw, Unknown):
        return Value(Secret(str(v.raw)), v.origin, v.defaulted, v.literal)
    return v


def _link(value: Any, candidates: Iterable[Any], name_of: Any) -> list[Any]:
    """Records a value refers to: by reference first, then by equal name."""
    found = [c for c in candidates if any(_matches(r, c.address) for r in refs_of(value))]
    if found:
        return found
    if isinstance(value, str):
        return [c for c in candidates if name_of(c) == str(value)]
    return []


def build_deployment(kind: str, root: str, records: list[Record], provider: ProviderSettings) -> Deployment:
    by_type: dict[str, list[Record]] = {}
    for rec in records:
        by_type.setdefault(rec.type, []).append(rec)

    subnets = {r.address: Subnet(r.address, r.origin, _plain(_value(r, "availability_zone", {})))
               for r in by_type.get("aws_subnet", [])}
    subnet_groups = [_subnet_group(r, subnets) for r in by_type.get("aws_db_subnet_group", [])]
    groups = [_security_group(r) for r in by_type.get("aws_security_group", [])]
    defaults = [_security_group(r) for r in by_type.get(facts.DEFAULT_SECURITY_GROUP_TYPE, [])]
    _attach_rules(groups + defaults, by_type)
    subnet_vpcs = {r.address: _vpc_key(r.get("vpc_id")) for r in by_type.get("aws_subnet", [])}
    default_vpcs = [(g, _vpc_key(r.get("vpc_id"), DEFAULT_VPC)) for g, r in
                    zip(defaults, by_type.get(facts.DEFAULT_SECURITY_GROUP_TYPE, []), strict=True)]
    secret_versions = by_type.get("aws_secretsmanager_secret_version", [])

    clusters = []
    arguments_used: dict[str, set[str]] = {}
    for rec in by_type.get("aws_rds_cluster", []):
        cluster = _cluster(rec)
        _link_cluster(cluster, rec, subnet_groups, groups)
        if rec.get("vpc_security_group_ids") is None:
            _default_group(cluster, rec, subnet_vpcs, default_vpcs)
        cluster.password_secret = _password_secret(rec, secret_versions)
        clusters.append(cluster)
        arguments_used[cluster.address] = _arguments(rec, cluster)
    _attach_instances(clusters, by_type.get("aws_rds_cluster_instance", []))

    kbs = [_knowledge_base(r, clusters) for r in by_type.get("aws_bedrockagent_knowledge_base", [])]
    roles = build_roles(by_type)
    for kb, rec in zip(kbs, by_type.get("aws_bedrockagent_knowledge_base", []), strict=True):
        kb.role, kb.role_unresolved = link_role(rec.get("role_arn"), roles, facts.role_name_of)
    region = provider.region or missing(
        Unknown("the AWS provider sets no region (it comes from the environment at run time)"),
        provider.origin or Location(),
    )
    constraint = (
        Value(", ".join(str(c.raw) for c in provider.constraints), provider.constraints[0].origin)
        if provider.constraints
        else missing(None, provider.origin or Location())
    )
    return Deployment(
        kind=kind,
        root=root,
        clusters=clusters,
        knowledge_bases=kbs,
        security_groups=groups + defaults,
        provider=Provider(_plain(region), constraint, provider.origin or Location()),
        arguments_used=arguments_used,
        spans={
            r.address: (r.origin.file, r.origin.line, r.end_line or r.origin.line)
            for r in records
            if r.origin.file and r.origin.line
        },
    )


def _storage_encrypted(rec: Record, mode: Value[Any]) -> Value[Any]:
    """storage_encrypted, with the provider's default for the engine mode when left out."""
    written = _get(rec, "storage_encrypted")
    if written is not None:
        return _plain(written)
    if not mode.known:
        return missing(Unknown(f"storage_encrypted is left out and its default depends on engine_mode, which "
                               f"cannot be determined: {mode.reason}"), rec.origin)
    default = facts.STORAGE_ENCRYPTED_DEFAULT.get(str(mode.value or facts.ENGINE_MODE))
    if default is None:
        return missing(Unknown(f"the provider default of storage_encrypted for engine_mode {mode.value!r} is "
                               "not in the facts table"), rec.origin)
    return missing(default, rec.origin)


def _cluster(rec: Record) -> Cluster:
    def v(name: str) -> Value[Any]:
        return _plain(_value(rec, name, CLUSTER_DEFAULTS))

    scaling = None
    block = rec.block("serverlessv2_scaling_configuration")
    if block is not None:
        scaling = Scaling(
            min_capacity=_plain(_value(block, "min_capacity", {"min_capacity": None})),
            max_capacity=_plain(_value(block, "max_capacity", {"max_capacity": None})),
            seconds_until_auto_pause=_plain(
                _value(block, "seconds_until_auto_pause", {"seconds_until_auto_pause": None})
            ),
            origin=block.origin,
        )
    return Cluster(
        address=rec.address,
        origin=rec.origin,
        identifier=v("cluster_identifier"),
        engine=v("engine"),
        engine_mode=v("engine_mode"),
        engine_version=v("engine_version"),
        iam_auth=v("iam_database_authentication_enabled"),
        http_endpoint=v("enable_http_endpoint"),
        manage_master_password=v("manage_master_user_password"),
        master_username=v("master_username"),
        master_password=_secret(_value(rec, "master_password", CLUSTER_DEFAULTS)),
        storage_encrypted=_storage_encrypted(rec, v("engine_mode")),
        deletion_protection=v("deletion_protection"),
        skip_final_snapshot=v("skip_final_snapshot"),
        final_snapshot_identifier=v("final_snapshot_identifier"),
        scaling=scaling,
        port=v("port"),
        identifier_prefix=_written(rec, "cluster_identifier_prefix"),
    )


def _written(rec: Record, name: str) -> Value[Any] | None:
    v = _get(rec, name)
    return _plain(v) if v is not None else None


def _arguments(rec: Record, cluster: Cluster) -> set[str]:
    from validator import facts

    used = set(rec.written)
    block = rec.block("serverlessv2_scaling_configuration")
    if block is not None:
        used |= {f"serverlessv2_scaling_configuration.{n}" for n in block.written}
    if cluster.scaling is not None:
        lo, hi = cluster.scaling.min_capacity, cluster.scaling.max_capacity
        if lo.known and isinstance(lo.raw, int | float) and lo.raw == 0:
            used.add(facts.PSEUDO_MIN_CAPACITY_ZERO)
        if hi.known and isinstance(hi.raw, int | float) and hi.raw > facts.ACU_MAX_OLD:
            used.add(facts.PSEUDO_MAX_CAPACITY_ABOVE_128)
    return used


def _subnet_group(rec: Record, subnets: dict[str, Subnet]) -> SubnetGroup:
    ids = _value(rec, "subnet_ids", {"subnet_ids": Unknown("the subnet group lists no subnet_ids")})
    raw = ids.raw
    if isinstance(raw, Unknown):
        # A whole list from elsewhere (a module output we could not read, a data source).
        linked = [s for a, s in subnets.items() if any(_matches(r, a) for r in raw.refs)]
        value: Value[Any] = Value(linked, ids.origin) if linked else Value(raw, ids.origin)
    else:
        items: list[Any] = []
        for item in raw if isinstance(raw, list) else [raw]:
            found = [s for a, s in subnets.items() if any(_matches(r, a) for r in refs_of(item))]
            if found:
                items.extend(found)
            elif isinstance(item, Unknown):
                items.append(Subnet(str(item.refs[0]) if item.refs else "?", ids.origin,
                                    Value(Unknown(item.reason), ids.origin)))
            else:
                items.append(Subnet(str(item), ids.origin, Value(
                    Unknown(f"subnet {item} is not declared in this configuration"), ids.origin)))
        value = Value(items, ids.origin)
    return SubnetGroup(rec.address, rec.origin, _plain(_value(rec, "name", {"name": None})), value)


def _ingress(rec: Record, source: str) -> IngressRule:
    cidrs: list[Any] = []
    origin = rec.origin
    for name in ("cidr_blocks", "ipv6_cidr_blocks"):
        v = _get(rec, name)
        if v is None:
            continue
        origin = v.origin
        if isinstance(v.raw, list):
            cidrs.extend(v.raw)
        else:
            cidrs.append(v.raw)
    unknown_cidr = next((c for c in cidrs if isinstance(c, Unknown)), None)
    cidr_value = Value(unknown_cidr if unknown_cidr else [str(c) for c in cidrs], origin)
    return IngressRule(
        from_port=_plain(_value(rec, "from_port", {"from_port": 0})),
        to_port=_plain(_value(rec, "to_port", {"to_port": 0})),
        protocol=_plain(_value(rec, "protocol", {"protocol": "tcp"})),
        cidr_blocks=cidr_value,
        origin=rec.origin,
        source=source,
    )


def _security_group(rec: Record) -> SecurityGroup:
    group = SecurityGroup(rec.address, rec.origin, _plain(_value(rec, "name", {"name": None})))
    for block in rec.blocks.get("ingress", []):
        group.ingress.append(_ingress(block, f"{rec.address} ingress block"))
    return group


def _vpc_ingress(rec: Record) -> IngressRule:
    cidrs: list[Any] = []
    origin = rec.origin
    for name in ("cidr_ipv4", "cidr_ipv6"):
        v = rec.get(name)
        if v is not None:
            cidrs.append(v.raw)
            origin = v.origin
    unknown_cidr = next((c for c in cidrs if isinstance(c, Unknown)), None)
    proto = _plain(_value(rec, "ip_protocol", {"ip_protocol": None}))
    all_traffic = proto.known and str(proto.raw) in ("-1", "all")
    default_port = -1 if all_traffic else None
    return IngressRule(
        from_port=_plain(_value(rec, "from_port", {"from_port": default_port})),
        to_port=_plain(_value(rec, "to_port", {"to_port": default_port})),
        protocol=proto,
        cidr_blocks=Value(unknown_cidr if unknown_cidr else [str(c) for c in cidrs], origin),
        origin=rec.origin,
        source=rec.address,
    )


def _attach_rules(groups: list[SecurityGroup], by_type: dict[str, list[Record]]) -> None:
    standalone: list[tuple[Value[Any], IngressRule]] = []
    for rec in by_type.get("aws_security_group_rule", []):
        kind = rec.get("type")
        if kind is None or (kind.known and str(kind.raw) != "ingress"):
            continue
        standalone.append((_value(rec, "security_group_id", {}), _ingress(rec, rec.address)))
    for rec in by_type.get("aws_vpc_security_group_ingress_rule", []):
        standalone.append((_value(rec, "security_group_id", {}), _vpc_ingress(rec)))
    for target, rule in standalone:
        for group in _link(target.raw, groups, lambda g: None):
            group.ingress.append(rule)


def _link_cluster(cluster: Cluster, rec: Record, subnet_groups: list[SubnetGroup],
                  groups: list[SecurityGroup]) -> None:
    name = rec.get("db_subnet_group_name")
    if name is None:
        cluster.subnet_group_ref = missing(
            Unknown("no db_subnet_group_name: the default VPC's subnet group is used"), rec.origin)
    else:
        found = _link(name.raw, subnet_groups, lambda g: g.name.get())
        if found:
            cluster.subnet_group = found[0]
        cluster.subnet_group_ref = _plain(name)
    ids = rec.get("vpc_security_group_ids")
    if ids is None:
        cluster.security_group_refs = missing([], rec.origin)
        return
    if isinstance(ids.raw, Unknown):
        linked = [g for g in groups if any(_matches(r, g.address) for r in ids.raw.refs)]
        cluster.security_groups.extend(linked)
        cluster.security_group_refs = Value([g.address for g in linked], ids.origin) if linked else ids
        return
    # Each entry becomes the address of the group it names, or an Unknown saying why not.
    entries: list[Any] = []
    for item in ids.raw if isinstance(ids.raw, list) else [ids.raw]:
        found = _link(item, groups, lambda g: None)
        for group in found:
            if group not in cluster.security_groups:
                cluster.security_groups.append(group)
            entries.append(group.address)
        if not found:
            entries.append(item if isinstance(item, Unknown) else Unknown(
                f"security group {item} is not declared in this configuration"))
    cluster.security_group_refs = Value(entries, ids.origin, literal=ids.literal)


DEFAULT_VPC = "<the default VPC>"


def _vpc_key(v: Value[Any] | None, left_out: str = "") -> str:
    """What names a VPC: the resource a vpc_id refers to, or the id itself; "" when unknown."""
    if v is None:
        return left_out
    refs = refs_of(v.raw)
    if refs:
        return _strip_index(refs[0]).rsplit(".id", 1)[0]
    return str(v.raw) if v.known and v.raw else ""


def _default_group(cluster: Cluster, rec: Record, subnet_vpcs: dict[str, str],
                   defaults: list[tuple[SecurityGroup, str]]) -> None:
    """A cluster naming no security group gets its VPC's default group: managed here, or as AWS creates it."""
    if cluster.subnet_group is None:
        ref = cluster.subnet_group_ref
        vpcs = {DEFAULT_VPC} if ref is None or ref.defaulted else set()
    elif isinstance(cluster.subnet_group.subnets.raw, list):
        vpcs = {subnet_vpcs.get(s.address, "") for s in cluster.subnet_group.subnets.raw if s is not None}
    else:
        vpcs = set()
    if not defaults:
        cluster.default_group_as_created = True
        return
    if vpcs and "" not in vpcs:
        managed = [g for g, vpc in defaults if vpc in vpcs]
        if managed:
            cluster.security_groups.extend(managed)
            cluster.security_group_refs = missing([g.address for g in managed], rec.origin)
            return
        if all(vpc for _, vpc in defaults):
            cluster.default_group_as_created = True  # the managed default groups are other VPCs'
            return
    names = ", ".join(g.address for g, _ in defaults)
    cluster.security_group_refs = missing(Unknown(
        "vpc_security_group_ids is left out, so the VPC's default security group applies; whether "
        f"{names} manages that group cannot be determined (the VPC of the cluster's subnets or of the group "
        "is not known statically)"), rec.origin)


def _local_part(ref: str) -> str:
    """A reference without its module path: "module.db.random_password.x" -> "random_password.x"."""
    return re.sub(r"^(?:module\.[^.]+\.)+", "", ref)


def _password_secret(rec: Record, secret_versions: list[Record]) -> str:
    """The secret version of the configuration that holds the cluster's master password ("" when none)."""
    password = _get(rec, "master_password")
    if password is None:
        return ""
    refs = _all_refs(password.raw)
    for ref in sorted(refs):
        if _local_part(ref).startswith(SECRET_DATA_SOURCES):
            return ref.rsplit(".secret_string", 1)[0]
    generated = {_strip_index(r) for r in refs if _local_part(r).startswith(GENERATED_PASSWORDS)}
    if not generated:
        return ""
    for version in secret_versions:
        stored = version.get("secret_string")
        if stored is not None and generated & {_strip_index(r) for r in _all_refs(stored.raw)}:
            return version.address
    return ""


def _all_refs(raw: Any) -> set[str]:
    """Every resource a value refers to, inside lists and maps too."""
    found = set(refs_of(raw))
    if isinstance(raw, list | tuple):
        for item in raw:
            found |= _all_refs(item)
    elif isinstance(raw, dict):
        for item in raw.values():
            found |= _all_refs(item)
    return found


def _attach_instances(clusters: list[Cluster], records: list[Record]) -> None:
    for rec in records:
        target = rec.get("cluster_identifier")
        instance = Instance(
            rec.address,
            rec.origin,
            identifier=_plain(_value(rec, "identifier", INSTANCE_DEFAULTS)),
            instance_class=_plain(_value(rec, "instance_class", INSTANCE_DEFAULTS)),
            publicly_accessible=_plain(_value(rec, "publicly_accessible", INSTANCE_DEFAULTS)),
            engine=_plain(_value(rec, "engine", INSTANCE_DEFAULTS)),
            uncertain=rec.multiplicity,
            identifier_prefix=_written(rec, "identifier_prefix"),
        )
        if target is None:
            continue
        found = _link(target.raw, clusters, lambda c: c.identifier.get())
        if not found and len(clusters) == 1 and isinstance(target.raw, Unknown) and not target.raw.refs:
            found = clusters  # an input we cannot read, in a configuration with one cluster
        for cluster in found[:1]:
            cluster.instances.append(instance)


def _knowledge_base(rec: Record, clusters: list[Cluster]) -> KnowledgeBase:
    storage = rec.block("storage_configuration")
    rds = storage.block("rds_configuration") if storage else None
    mapping_block = rds.block("field_mapping") if rds else None
    origin = (rds or storage or rec).origin

    def field_of(r: Record | None, name: str) -> Value[Any]:
        if r is None:
            return missing(None, origin)
        return _plain(_value(r, name, {name: None}))

    mapping = {
        name: field_of(mapping_block, name)
        for name in (*facts.KB_REQUIRED_FIELD_MAPPING, *facts.KB_OPTIONAL_FIELD_MAPPING)
    }
    arn = field_of(rds, "resource_arn")
    written_arn = rds.get("resource_arn") if rds else None
    raw_arn = written_arn.raw if written_arn else None
    target = None
    for cluster in clusters:
        if any(_matches(r, cluster.address) for r in refs_of(raw_arn)) or (
            cluster.arn and raw_arn == cluster.arn
        ):
            target = cluster.address
            break
    kb_config = rec.block("knowledge_base_configuration")
    vector = kb_config.block("vector_knowledge_base_configuration") if kb_config else None
    role_arn = rec.get("role_arn")
    return KnowledgeBase(
        rec.address,
        rec.origin,
        storage_type=field_of(storage, "type"),
        resource_arn=arn,
        credentials_secret_arn=field_of(rds, "credentials_secret_arn"),
        database_name=field_of(rds, "database_name"),
        table_name=field_of(rds, "table_name"),
        field_mapping=mapping,
        cluster_address=target,
        role_arn=_plain(role_arn) if role_arn is not None else missing(None, rec.origin),
        embedding_model_arn=field_of(vector, "embedding_model_arn") if vector else missing(None, origin),
    )
