"""The live source's knowledge bases: bedrock-agent and Secrets Manager reads for one region.

``ListKnowledgeBases`` (paginated), then ``GetKnowledgeBase`` for each, concurrently; the
knowledge bases with RDS storage are linked to the audited clusters by
``storageConfiguration.rdsConfiguration.resourceArn``. The credentials secret of each is
looked up with ``secretsmanager:DescribeSecret`` (whether it exists; its value is never read).
With ``--all``, knowledge bases that name no audited cluster are kept, and what their
``resourceArn`` names is asked of RDS (no such cluster, or another engine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from validator import facts
from validator.model import RefusedCall, Unknown
from validator.sources.aws.build import RegionData, cluster_key
from validator.sources.aws.client import Clients, Refused, call, chunks, describe_filtered, paginate

KB_PAGE_SIZE = 100
MAX_KB_THREADS = 8
FILTER_VALUES = 50
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:cluster:[A-Za-z0-9-]{1,63}$")
_T = TypeVar("_T")
_U = TypeVar("_U")


def _name_in(arn: str, region: str) -> str:
    """The cluster identifier an Aurora cluster ARN of ``region`` names, else ""."""
    match = _CLUSTER_ARN.match(arn)
    return arn.rsplit(":", 1)[-1] if match and match.group(1) == region else ""


def _concurrently(func: Callable[[_T], _U], items: list[_T]) -> list[_U]:
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(MAX_KB_THREADS, len(items)), thread_name_prefix="live-kb") as pool:
        return list(pool.map(func, items))


def _note(data: RegionData, exc: Refused, consequence: str) -> None:
    data.refused.append(RefusedCall(exc.operation, exc.code, data.region, consequence, exc.denied, exc.message))


def fetch(clients: Clients, data: RegionData, keep_unlinked: bool) -> None:
    """Fill ``data.knowledge_bases``, ``data.secrets`` and (``keep_unlinked``) ``data.kb_targets``."""
    region = data.region
    agent = clients.client("bedrock-agent", region)
    try:
        summaries = call(
            "bedrock:ListKnowledgeBases",
            region,
            lambda: paginate(
                agent,
                "list_knowledge_bases",
                "knowledgeBaseSummaries",
                PaginationConfig={"PageSize": KB_PAGE_SIZE},
            ),
            degrade_denied=True,
            degrade_errors=True,
        )
    except Refused as exc:
        _note(data, exc, "the knowledge bases were not read, so AV203 is not evaluated live")
        return
    ids = list(dict.fromkeys(str(s["knowledgeBaseId"]) for s in summaries if s.get("knowledgeBaseId")))
    nameless = sum(1 for s in summaries if not s.get("knowledgeBaseId"))
    if nameless:
        message = f"{nameless} knowledge base(s) listed without knowledgeBaseId"
        incomplete = Refused("bedrock:ListKnowledgeBases", "IncompleteResponse", message, denied=False)
        _note(data, incomplete, f"{message} were not read, so AV203 skips them")

    def get(kb_id: str) -> dict[str, Any] | Refused:
        try:
            answer = call(
                "bedrock:GetKnowledgeBase",
                region,
                lambda: agent.get_knowledge_base(knowledgeBaseId=kb_id),
                degrade_denied=True,
                degrade_errors=True,
            )
        except Refused as exc:
            return exc
        return answer.get("knowledgeBase") or {}

    unread: list[Refused] = []
    by_arn = {c["DBClusterArn"]: cluster_key(c) for c in data.clusters if c.get("DBClusterArn")}
    # A cluster reported without its ARN is still found by its identifier (in this region).
    by_name = {c["DBClusterIdentifier"]: cluster_key(c) for c in data.clusters if c.get("DBClusterIdentifier")}
    for kb in _concurrently(get, ids):
        if isinstance(kb, Refused):
            unread.append(kb)
            continue
        storage = kb.get("storageConfiguration") or {}
        if storage.get("type") not in (facts.KB_STORAGE_TYPE_RDS, None):
            continue  # another vector store: nothing about Aurora to check
        target = (storage.get("rdsConfiguration") or {}).get("resourceArn")
        address = (by_arn.get(target) or by_name.get(_name_in(target, data.region))) if target else None
        if address is not None or keep_unlinked:
            data.knowledge_bases.append((kb, address))
    if unread:
        _note(data, unread[0], f"{len(unread)} knowledge base(s) were not read, so AV203 skips them")

    _fetch_secrets(clients, data)
    if keep_unlinked:
        _fetch_targets(clients, data)


def _fetch_secrets(clients: Clients, data: RegionData) -> None:
    arns = sorted(
        {
            str(secret)
            for kb, _ in data.knowledge_bases
            if (secret := ((kb.get("storageConfiguration") or {}).get("rdsConfiguration") or {}).get(
                "credentialsSecretArn"
            ))
        }
    )
    if not arns:
        return
    sm = clients.client("secretsmanager", data.region)

    def describe(arn: str) -> bool:
        try:
            sm.describe_secret(SecretId=arn)
        except sm.exceptions.ResourceNotFoundException:
            return False
        return True

    def look(arn: str) -> bool | Refused:
        try:
            return bool(
                call(
                    "secretsmanager:DescribeSecret",
                    data.region,
                    lambda: describe(arn),
                    degrade_denied=True,
                    degrade_errors=True,
                )
            )
        except Refused as exc:
            return exc

    noted = False
    for arn, found in zip(arns, _concurrently(look, arns), strict=True):
        if isinstance(found, Refused):
            if not noted:
                _note(data, found, "whether the knowledge bases' credentials secrets exist is unknown")
                noted = True
            what = "was refused" if found.denied else "failed"
            data.secrets[arn] = f"secretsmanager:DescribeSecret {what} ({found.code}) in {data.region}"
        else:
            data.secrets[arn] = found


def _fetch_targets(clients: Clients, data: RegionData) -> None:
    """What each unlinked knowledge base's resourceArn names (asked of RDS, any engine)."""
    targets = sorted(
        {
            str(arn)
            for kb, address in data.knowledge_bases
            if address is None
            and (arn := ((kb.get("storageConfiguration") or {}).get("rdsConfiguration") or {}).get("resourceArn"))
        }
    )
    ask: list[str] = []
    for arn in targets:
        match = _CLUSTER_ARN.match(arn)
        if not match:
            data.kb_targets[arn] = "it is not an Aurora DB cluster ARN (arn:aws:rds:REGION:ACCOUNT:cluster:NAME)"
        elif match.group(1) != data.region:
            data.kb_targets[arn] = f"it names a cluster in {match.group(1)}, not in {data.region}"
        else:
            ask.append(arn)
    if not ask:
        return
    rds = clients.client("rds", data.region)
    batches = [[{"Name": "db-cluster-id", "Values": chunk}] for chunk in chunks(ask, FILTER_VALUES)]
    for filters, found in describe_filtered(
        rds, "rds:DescribeDBClusters", "describe_db_clusters", "DBClusters", data.region, batches
    ):
        chunk = filters[0]["Values"]
        if isinstance(found, Refused):
            for arn in chunk:
                data.kb_targets[arn] = Unknown(f"{found.operation} {'was refused' if found.denied else 'failed'} "
                                               f"({found.code}) in {data.region}")
            continue
        engines = {c.get("DBClusterArn") or c.get("DBClusterIdentifier"): c.get("Engine") for c in found}
        unnamed = any(not (c.get("DBClusterArn") or c.get("DBClusterIdentifier")) for c in found)
        for arn in chunk:
            if arn not in engines and _name_in(arn, data.region) in engines:
                arn_or_name = _name_in(arn, data.region)
                engines[arn] = engines[arn_or_name]
            if arn not in engines and unnamed:
                data.kb_targets[arn] = Unknown("rds:DescribeDBClusters answered without naming the clusters")
            elif arn not in engines:
                data.kb_targets[arn] = f"no such DB cluster exists in {data.region}"
            elif engines[arn] != facts.ENGINE:
                data.kb_targets[arn] = f"its engine is {engines[arn] or 'not reported'}, not {facts.ENGINE}"
            else:
                data.kb_targets[arn] = "it is an Aurora PostgreSQL cluster this audit did not read"
