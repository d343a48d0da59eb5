"""What the rule families share: locations, unresolved results, presence tests, engine support, ports.

Rules import these from here; no rule module imports another.
"""

from __future__ import annotations

from typing import Any

from validator import facts
from validator.model import NOWHERE, Cluster, IngressRule, Location, Resource, SecurityGroup, Unknown, Value
from validator.rules.base import Result, Rule, Status

# --------------------------------------------------------------------------- #
# Locations and results


def where(value: Value[Any] | None, resource: Resource | None = None) -> Location:
    """The location of the attribute to change, else the resource's block."""
    if value is not None and value.origin != NOWHERE:
        return value.origin
    return resource.origin if resource is not None else NOWHERE


def undetermined(resource: str, what: str, reason: str, location: Location) -> Result:
    """An unresolved result with the reason the value cannot be known."""
    return Result(Status.UNRESOLVED, f"{what} cannot be determined: {reason}", resource, location)


def unresolved_value(resource: Resource, value: Value[Any], what: str) -> Result:
    return undetermined(resource.address, what, value.reason or "value is not known statically", where(value, resource))


def argument_is_true(
    rule: Rule, cluster: Cluster, value: Value[Any], argument: str, passed: str, default_note: str
) -> Result:
    """Pass when a boolean cluster argument is true, fail when false (saying when it is left out)."""
    if not value.known:
        return unresolved_value(cluster, value, argument)
    if value.value is True:
        return rule.passed(cluster.address, passed, where(value, cluster))
    left_out = f" (left out: {default_note})" if value.defaulted else ""
    return rule.failed(cluster.address, f"{argument} is false{left_out}", where(value, cluster))


# --------------------------------------------------------------------------- #
# Values


def is_set(value: Value[Any] | None) -> bool:
    """Whether an argument is written with a value (an unknown expression counts as set)."""
    if value is None or value.defaulted:
        return False
    if not value.known:
        return True
    return value.value not in (None, "", [], {})


def number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def acu(value: float) -> str:
    """0.5 -> "0.5", 4.0 -> "4"."""
    return f"{value:g}"


# --------------------------------------------------------------------------- #
# The engine and what its version supports


def engine_version_value(cluster: Cluster) -> Value[Any]:
    """The engine version, with a left-out version turned into an unknown with its reason."""
    v = cluster.engine_version
    if v.known and (v.value is None or str(v.value).strip() == ""):
        return Value(
            Unknown("engine_version is left out, so AWS selects its default version when the cluster is created"),
            v.origin,
            defaulted=True,
        )
    return v


def aurora_postgresql(cluster: Cluster) -> bool | None:
    """Whether the cluster's engine is aurora-postgresql; None when unknown."""
    if not cluster.engine.known:
        return None
    return cluster.engine.value == facts.ENGINE


def engine_support_of(cluster: Cluster) -> tuple[facts.EngineSupport | None, str]:
    """What the engine version supports: AWS's own answer first, then the facts table.

    Returns (support, reason); support is None with the reason when the version is unknown.
    """
    reported = cluster.reported_engine_support
    version = engine_version_value(cluster)
    table = facts.engine_support(str(version.value)) if version.known else None
    if isinstance(reported, facts.EngineSupport):
        return reported.over(table), ""
    if table is None:
        return None, version.reason
    return table, ""


# --------------------------------------------------------------------------- #
# Ports and security groups


def open_cidrs(rule_cidrs: Value[Any]) -> tuple[list[str], bool]:
    """The open-to-the-world CIDRs among the known entries, and whether some entry is unknown."""
    raw = rule_cidrs.raw
    if isinstance(raw, Unknown):
        return [], True
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    known = [c for c in items if isinstance(c, str)]
    return [c for c in known if c.strip() in ("0.0.0.0/0", "::/0")], len(known) != len(items)


def db_port(cluster: Cluster) -> int | None:
    """The database port: the cluster's port, 5432 when left out, None when unknown."""
    v = cluster.port
    if not v.known:
        return None
    raw: Any = v.value  # a number, or text when written as a string
    if raw in (None, ""):
        return facts.DEFAULT_PORT
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):  # 1e999, NaN
        return None


def unknown_ingress_input(rule: IngressRule, *others: Value[Any]) -> tuple[str, Location]:
    """The reason and location of the first unknown input of an ingress rule."""
    inputs: tuple[Value[Any], ...] = (rule.from_port, rule.to_port, rule.protocol, rule.cidr_blocks, *others)
    for v in inputs:
        if not v.known:
            return (
                v.reason or "value is not known statically",
                v.origin if v.origin != NOWHERE else rule.origin,
            )
    return "the rule's ports or protocol are not known statically", rule.origin


def default_group_note(cluster: Cluster) -> str:
    """Why a cluster naming no security group is guarded by its VPC's default group ("" otherwise)."""
    if not cluster.default_group_as_created:
        return ""
    return (
        "vpc_security_group_ids is left out, so the VPC's default security group applies, which admits "
        f"{facts.DEFAULT_SECURITY_GROUP_INGRESS} unless changed; the configuration does not manage it "
        f"({facts.DEFAULT_SECURITY_GROUP_TYPE} would)"
    )


def security_groups_or_reason(cluster: Cluster) -> tuple[list[SecurityGroup], str]:
    """The cluster's security groups, and why the list may be incomplete ("" when complete)."""
    refs = cluster.security_group_refs
    if refs is not None and not refs.known:
        return cluster.security_groups, refs.reason or "vpc_security_group_ids is not known statically"
    if cluster.default_group_as_created:
        return [], ""
    if not cluster.security_groups and (refs is None or not refs.get()):
        return [], (
            "vpc_security_group_ids is left out, so the VPC's default security group applies, "
            "which the configuration does not describe"
        )
    return cluster.security_groups, ""
