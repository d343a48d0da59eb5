"""The live source: read Aurora clusters from AWS into the model.

One Deployment (kind "live") per cluster, rooted at its ARN. Regions are read
concurrently, one client set per region; the number of API calls grows with
pages, not with clusters: every describe call covers all clusters of a region.
Knowledge bases are read per region too (``live_kb``). Only Describe, List and Get calls
are sent (see ``live_aws.OPERATIONS``). Every refused or failed call is recorded and reported
(AV503); a region whose clusters cannot be listed is reported as such, the others still are.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from validator import facts
from validator.errors import AccessDenied, InputError, UsageError
from validator.model import Deployment, RefusedCall
from validator.sources.aws import build as live_build
from validator.sources.aws import knowledge_bases as live_kb
from validator.sources.aws.build import RegionData, cluster_key
from validator.sources.aws.client import (
    POLICY_HINT,
    AwsCallFailed,
    Clients,
    Connection,
    Refused,
    call,
    check_endpoint_reachable,
    chunks,
    describe_filtered,
    paginate,
)

if TYPE_CHECKING:
    from validator.sources.aws.accounts import AccountRequest

PAGE_SIZE_RDS = 100  # the RDS maximum for MaxRecords
FILTER_VALUES = 50  # identifiers per db-cluster-id filter
GROUP_IDS_PER_CALL = 200  # values per EC2 filter
SUBNET_GROUPS_BY_NAME = 3  # up to this many groups: ask by name; more: list them all
# Regions (of every account) read at once; ``--jobs N`` with ``--live``. Each read waits on the
# network, so threads, not processes; eight keep AWS's per-account request rates far away.
DEFAULT_JOBS = 8


@dataclass
class LiveRequest:
    """What to audit: named clusters (identifiers or ARNs) and/or every cluster of the regions."""

    clusters: list[str] = field(default_factory=list)
    all: bool = False
    regions: list[str] = field(default_factory=list)
    connection: Connection = field(default_factory=Connection)
    progress: bool | None = None  # None: only when stderr is a terminal
    knowledge_bases: bool = True  # read the Bedrock knowledge bases that use the clusters
    jobs: int | None = None  # regions read at once, across accounts; None: DEFAULT_JOBS
    accounts: AccountRequest | None = None  # many accounts, a role assumed in each; None: our own


@dataclass
class LiveAudit:
    deployments: list[Deployment]
    regions: list[str]
    refused: list[RefusedCall]
    accounts: list[str] = field(default_factory=list)  # many accounts: every account asked for


def _arn_region(text: str) -> str | None:
    parts = text.split(":")
    if text.startswith("arn:") and len(parts) >= 7 and parts[2] == "rds" and parts[5] == "cluster":
        return parts[3]
    return None


def _cluster_name(text: str) -> str:
    return text.split(":")[-1] if _arn_region(text) else text


def plan_regions(request: LiveRequest, clients: Clients) -> dict[str, list[str]]:
    """Region -> cluster names to look for there (an empty list with ``all``)."""
    if not request.clusters and not request.all:
        raise UsageError("--live needs --cluster ID (repeatable) or --all")
    for item in request.clusters:
        if item.startswith("arn:") and not _arn_region(item):
            raise UsageError(
                f"{item!r} is not an Aurora DB cluster ARN (arn:aws:rds:REGION:ACCOUNT:cluster:NAME)"
            )
    regions = list(dict.fromkeys(request.regions))
    named_regions = [r for r in (_arn_region(c) for c in request.clusters) if r]
    if not regions and (request.all or len(named_regions) < len(request.clusters)):
        default = clients.default_region()
        if not default:
            raise UsageError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        regions = [default]
    known = clients.known_regions()
    for region in dict.fromkeys(regions + named_regions):
        if region not in known:
            raise UsageError(f"unknown AWS region {region!r}")
    plan: dict[str, list[str]] = {r: [] for r in regions}
    for item in request.clusters:
        arn_region = _arn_region(item)
        targets = [arn_region] if arn_region else regions
        for r in targets:
            plan.setdefault(r, []).append(item)
    return plan


class _Progress:
    """A one-line progress indicator on stderr, only on a terminal."""

    def __init__(self, enabled: bool | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def update(self, region: str, clusters: int, total: int | None = None) -> None:
        """``region`` read, with ``clusters`` in it; ``total``: how many regions there are to read."""
        if not self.enabled:
            return
        with self.lock:
            self.counts[region] = clusters
            if total is None:
                line = ", ".join(f"{r}: {n}" for r, n in sorted(self.counts.items()))
            else:  # many accounts: the regions read so far, not each of them
                line = f"{len(self.counts)}/{total} regions, {sum(self.counts.values())} clusters"
            self.stream.write(f"\rreading clusters ... {line}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.counts:
            self.stream.write("\n")
            self.stream.flush()


def fetch_region(
    clients: Clients, region: str, names: list[str], all_clusters: bool, knowledge_bases: bool = True
) -> RegionData:
    """Every read for one region; API calls grow with pages, not clusters."""
    rds = clients.client("rds", region)
    ec2 = clients.client("ec2", region)
    data = RegionData(region=region)

    batches: list[list[dict[str, Any]]] = []
    if all_clusters:
        batches.append([{"Name": "engine", "Values": [facts.ENGINE]}])
    batches += [[{"Name": "db-cluster-id", "Values": chunk}] for chunk in chunks(dict.fromkeys(names), FILTER_VALUES)]
    clusters: dict[str, dict[str, Any]] = {}
    pages = {"PageSize": PAGE_SIZE_RDS}
    for _, items in describe_filtered(
        rds, "rds:DescribeDBClusters", "describe_db_clusters", "DBClusters", region, batches, PaginationConfig=pages
    ):
        if isinstance(items, Refused):
            _refused(data, items, "the region's clusters were not read, so nothing in it is audited")
            data.listing_failed = True
            data.clusters = []
            return data
        for item in items:
            clusters.setdefault(cluster_key(item), item)
    data.clusters = sorted(clusters.values(), key=lambda c: str(c.get("DBClusterIdentifier") or cluster_key(c)))
    if data.clusters:
        _fetch_instances(rds, data, all_clusters and not names)
        _fetch_subnet_groups(rds, ec2, data)
        _fetch_security_groups(ec2, data)
        _fetch_engine_versions(rds, data)
    if knowledge_bases and (data.clusters or all_clusters):
        live_kb.fetch(clients, data, keep_unlinked=all_clusters)
    return data


def _fetch_instances(rds: Any, data: RegionData, whole_region: bool) -> None:
    ids = [str(c["DBClusterIdentifier"]) for c in data.clusters if c.get("DBClusterIdentifier")]
    batches: list[list[dict[str, str | list[str]]]]
    if whole_region:
        batches = [[{"Name": "engine", "Values": [facts.ENGINE]}]]
    else:
        batches = [[{"Name": "db-cluster-id", "Values": chunk}] for chunk in chunks(ids, FILTER_VALUES)]
    wanted = set(ids)
    pages = {"PageSize": PAGE_SIZE_RDS}
    for _, items in describe_filtered(
        rds, "rds:DescribeDBInstances", "describe_db_instances", "DBInstances", data.region, batches,
        PaginationConfig=pages,
    ):
        if isinstance(items, Refused):
            _refused(data, items, "instance classes and public accessibility left unknown")
            data.instances.clear()
            return
        for item in items:
            owner = item.get("DBClusterIdentifier")
            if owner in wanted:
                data.instances.setdefault(owner, []).append(item)
    for members in data.instances.values():
        members.sort(key=lambda i: str(i.get("DBInstanceIdentifier") or ""))


def _fetch_subnet_groups(rds: Any, ec2: Any, data: RegionData) -> None:
    names = sorted({c["DBSubnetGroup"] for c in data.clusters if c.get("DBSubnetGroup")})
    if not names:
        return
    try:
        if len(names) <= SUBNET_GROUPS_BY_NAME:
            for name in names:
                items = call(
                    "rds:DescribeDBSubnetGroups",
                    data.region,
                    lambda name=name: _describe_subnet_group(rds, name),
                    degrade_denied=True,
                    degrade_errors=True,
                )
                for item in items:
                    data.subnet_groups[item.get("DBSubnetGroupName") or name] = item
        else:
            items = call(
                "rds:DescribeDBSubnetGroups",
                data.region,
                lambda: paginate(
                    rds,
                    "describe_db_subnet_groups",
                    "DBSubnetGroups",
                    PaginationConfig={"PageSize": PAGE_SIZE_RDS},
                ),
                degrade_denied=True,
                degrade_errors=True,
            )
            for item in items:
                if item.get("DBSubnetGroupName") in names:
                    data.subnet_groups[item["DBSubnetGroupName"]] = item
    except Refused as exc:
        _refused(data, exc, "subnet Availability Zones left unknown")
        data.subnet_groups.clear()
        return

    no_az = sorted(
        {
            s["SubnetIdentifier"]
            for g in data.subnet_groups.values()
            for s in g.get("Subnets", [])
            if s.get("SubnetIdentifier") and not (s.get("SubnetAvailabilityZone") or {}).get("Name")
        }
    )
    for chunk in chunks(no_az, GROUP_IDS_PER_CALL):
        try:
            subnets = call(
                "ec2:DescribeSubnets",
                data.region,
                lambda chunk=chunk: paginate(
                    ec2, "describe_subnets", "Subnets", Filters=[{"Name": "subnet-id", "Values": chunk}]
                ),
                degrade_denied=True,
                degrade_errors=True,
            )
        except Refused as exc:
            _refused(data, exc, "subnet Availability Zones left unknown")
            return
        for subnet in subnets:
            if subnet.get("SubnetId") and subnet.get("AvailabilityZone"):
                data.subnet_azs[subnet["SubnetId"]] = subnet["AvailabilityZone"]


def _refused(data: RegionData, exc: Refused, consequence: str) -> None:
    data.refused.append(RefusedCall(exc.operation, exc.code, data.region, consequence, exc.denied, exc.message))


def _describe_subnet_group(rds: Any, name: str) -> list[dict[str, Any]]:
    """One subnet group by name; an empty list when it does not exist."""
    try:
        return list(rds.describe_db_subnet_groups(DBSubnetGroupName=name).get("DBSubnetGroups", []))
    except rds.exceptions.DBSubnetGroupNotFoundFault:
        return []


def _fetch_security_groups(ec2: Any, data: RegionData) -> None:
    ids = sorted(
        {
            g["VpcSecurityGroupId"]
            for c in data.clusters
            for g in c.get("VpcSecurityGroups", [])
            if g.get("VpcSecurityGroupId")
        }
    )
    batches = [[{"Name": "group-id", "Values": chunk}] for chunk in chunks(ids, GROUP_IDS_PER_CALL)]
    for _, groups in describe_filtered(
        ec2, "ec2:DescribeSecurityGroups", "describe_security_groups", "SecurityGroups", data.region, batches
    ):
        if isinstance(groups, Refused):
            _refused(data, groups, "security group ingress left unknown")
            data.security_groups.clear()
            return
        for group in groups:
            if group.get("GroupId"):
                data.security_groups[group["GroupId"]] = group


def _fetch_engine_versions(rds: Any, data: RegionData) -> None:
    wanted: dict[str, set[str]] = defaultdict(set)
    for c in data.clusters:
        if c.get("Engine") == facts.ENGINE and c.get("EngineVersion"):
            wanted[c["Engine"]].add(c["EngineVersion"])
    for engine, versions in sorted(wanted.items()):
        try:
            items = call(
                "rds:DescribeDBEngineVersions",
                data.region,
                lambda engine=engine, versions=versions: paginate(
                    rds,
                    "describe_db_engine_versions",
                    "DBEngineVersions",
                    Engine=engine,
                    IncludeAll=True,
                    Filters=[{"Name": "engine-version", "Values": sorted(versions)}],
                ),
                degrade_denied=True,
                degrade_errors=True,
            )
        except Refused as exc:
            _refused(data, exc, "engine support taken from the facts table")
            return
        for item in items:
            data.engine_versions[(item.get("Engine", engine), item.get("EngineVersion", ""))] = item


def _not_found(plan: dict[str, list[str]], found: Iterable[RegionData]) -> list[str]:
    seen: set[str] = set()
    for data in found:
        for c in data.clusters:
            for key in ("DBClusterIdentifier", "DBClusterArn"):
                if c.get(key):
                    seen.add(str(c[key]).lower())
    asked = dict.fromkeys(name for names in plan.values() for name in names)
    return [name for name in asked if name.lower() not in seen]


def _nothing_read(results: list[RegionData]) -> Exception:
    """The one-line error when no region's clusters could be listed."""
    first = results[0].refused[0]
    where = ", ".join(d.region for d in results)
    if any(r.denied for d in results for r in d.refused):
        denied = next(r for d in results for r in d.refused if r.denied)
        return AccessDenied(
            denied.operation, f"refused in {where} ({denied.code}); grant {denied.operation} ({POLICY_HINT})"
        )
    detail = f": {first.message}" if first.message else ""
    return AwsCallFailed(first.operation, f"failed in {where} ({first.code}{detail})")


def audit(request: LiveRequest) -> LiveAudit:
    """Read every requested cluster; raises UsageError, InputError or AccessDenied (one line each)."""
    # An explicit endpoint (the option or AWS_ENDPOINT_URL) with nothing listening is an input error.
    endpoint = request.connection.endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint:
        check_endpoint_reachable(endpoint)
    clients = Clients(request.connection)
    plan = plan_regions(request, clients)
    progress = _Progress(request.progress)
    results = read_regions([RegionTask(clients, region, plan[region]) for region in plan], request, progress)

    if all(d.listing_failed for d in results):
        raise _nothing_read(results)
    missing = _not_found(plan, [d for d in results if not d.listing_failed])
    unread = [d.region for d in results if d.listing_failed]
    if missing and not unread:
        where = ", ".join(plan)
        raise InputError(", ".join(missing), f"DB cluster not found in {where}", "not found")
    deployments, refused = account_deployments(clients, results, request.knowledge_bases)
    return LiveAudit(deployments=deployments, regions=list(plan), refused=refused)


@dataclass(frozen=True)
class RegionTask:
    """One region of one account to read: the account's clients and the clusters to look for."""

    clients: Clients
    region: str
    names: list[str]
    account: str | None = None  # many accounts: the account the clients are for


def read_regions(tasks: list[RegionTask], request: LiveRequest, progress: _Progress) -> list[RegionData]:
    """Read every (account, region) of ``tasks``, at most ``request.jobs`` at once, in task order.

    In an account of many (``task.account``), credentials AWS rejects in a region (an opt-in
    region not enabled there) leave that region unread and reported; the other regions and
    accounts are still read.
    """
    services = ["rds", "ec2"] + (["bedrock-agent", "secretsmanager"] if request.knowledge_bases else [])
    for task in tasks:  # created first, under one lock: no read waits on another's client
        for service in services:
            task.clients.client(service, task.region)
    many = any(task.account for task in tasks)
    total = len(tasks) if many else None

    def run(task: RegionTask) -> RegionData:
        try:
            data = fetch_region(task.clients, task.region, task.names, request.all, request.knowledge_bases)
        except InputError as exc:
            if task.account is None:
                raise
            data = RegionData(region=task.region, listing_failed=True)
            consequence = "the region was not read (is it enabled in this account?), so nothing in it is audited"
            data.refused.append(
                RefusedCall("rds:DescribeDBClusters", exc.kind, task.region, consequence, False, exc.message)
            )
        data.account = task.account
        key = f"{task.account}/{task.region}" if many else task.region
        progress.update(key, len(data.clusters), total)
        return data

    workers = max(1, min(len(tasks), request.jobs or DEFAULT_JOBS))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="live-region") as pool:
        futures = [pool.submit(run, task) for task in tasks]
        try:
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()
            progress.done()


def account_deployments(
    clients: Clients, results: list[RegionData], knowledge_bases: bool
) -> tuple[list[Deployment], list[RefusedCall]]:
    """The deployments of one account's regions, and the calls refused or failed there."""
    deployments: list[Deployment] = []
    for data in results:
        deployments.extend(live_build.deployment(raw, data) for raw in data.clusters)
        extra = live_build.region_deployment(data, with_refused=not data.clusters)
        if extra is not None:
            deployments.append(extra)
    refused = [r for data in results for r in data.refused]
    if knowledge_bases:
        refused.extend(r for r in _read_roles(clients, deployments) if r not in refused)
    return deployments, refused


def _read_roles(clients: Clients, deployments: list[Deployment]) -> list[RefusedCall]:
    """Read each knowledge base's service role (AV204), every role and policy once per audit.

    Returns the IAM calls refused or failed on the way (each deployment records its own, for AV503).
    """
    knowledge_bases = [(kb, dep) for dep in deployments for kb in dep.knowledge_bases]
    if not knowledge_bases:
        return []
    from validator.sources.aws.iam import RoleCache, attach_role

    cache = RoleCache()
    added: dict[int, list[RefusedCall]] = {}  # by deployment, in the order they are first met
    for kb, dep in knowledge_bases:
        added.setdefault(id(dep), []).extend(attach_role(clients, kb, dep, cache))
    return [r for refused in added.values() for r in refused]
