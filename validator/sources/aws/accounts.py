"""Many accounts: find them (AWS Organizations), assume a role in each, audit every one.

The accounts are given (``--accounts``) or read from the organization (``--organization``:
``organizations:ListAccounts``, every page, active accounts only). In each, the audit assumes
one role (``sts:AssumeRole``: ``--role-name`` or a role ARN template, an optional external id,
a session name and duration) and reads with its temporary credentials exactly what a
single-account audit reads. The regions of every account share one bounded pool of reads
(``--jobs``, default ``audit.DEFAULT_JOBS``).

An account whose role cannot be assumed, a region that cannot be read there, a call refused
there: each is reported as a finding of that account (AV503) and the exit code says a call was
refused or failed (3); the other accounts are audited all the same. Only discovering the
accounts is fatal: without the list there is nothing to audit.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from validator import facts
from validator.errors import InputError, UsageError
from validator.model import Deployment, Location, Provider, RefusedCall, Unknown, Value
from validator.sources.aws.audit import (
    DEFAULT_JOBS,
    LiveAudit,
    LiveRequest,
    RegionTask,
    _arn_region,
    _not_found,
    _Progress,
    account_deployments,
    plan_regions,
    read_regions,
)
from validator.sources.aws.build import LIVE_PROVIDER, RegionData, arn_account
from validator.sources.aws.client import Clients, Refused, TemporaryCredentials, call, check_endpoint_reachable

DEFAULT_SESSION_NAME = "aurora-validate"
TRUST_POLICY_FILE = "policy/aurora-validate-member-role-trust-policy.json"
ACCOUNT_PLACEHOLDER = "{account}"
_ACCOUNT_ID = re.compile(facts.ACCOUNT_ID_PATTERN)
_SESSION_NAME = re.compile(facts.ROLE_SESSION_NAME_PATTERN)
_EXTERNAL_ID = re.compile(facts.EXTERNAL_ID_PATTERN)
_ROLE_NAME = re.compile(r"/?(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")  # an IAM role name, with its path


@dataclass(frozen=True)
class AccountRequest:
    """Which accounts to audit and how to get into each."""

    ids: list[str] = field(default_factory=list)
    organization: bool = False  # also every active account of the organization
    role_name: str | None = None  # arn:PARTITION:iam::ACCOUNT:role/NAME
    role_arn: str | None = None  # a template with {account}
    external_id: str | None = field(default=None, repr=False)
    session_name: str = DEFAULT_SESSION_NAME
    duration: int = facts.ASSUME_ROLE_DURATION_DEFAULT
    partition: str = "aws"

    def __post_init__(self) -> None:
        for account in self.ids:
            if not _ACCOUNT_ID.fullmatch(account):
                raise UsageError(f"--accounts: {account!r} is not an AWS account id (12 digits)")
        if not self.ids and not self.organization:
            raise UsageError("--role-name/--role-arn need --accounts ID,... or --organization")
        if bool(self.role_name) == bool(self.role_arn):
            raise UsageError(
                "--accounts and --organization need one role to assume: --role-name NAME or --role-arn TEMPLATE"
            )
        if self.role_name and not _ROLE_NAME.fullmatch(self.role_name):
            raise UsageError(f"--role-name {self.role_name!r} is not an IAM role name (or path/name)")
        if self.role_arn is not None:
            if ACCOUNT_PLACEHOLDER not in self.role_arn:
                raise UsageError(
                    f"--role-arn {self.role_arn!r} names no account: write {ACCOUNT_PLACEHOLDER} where it goes, "
                    "e.g. arn:aws:iam::{account}:role/aurora-validate-audit"
                )
            sample = self.role_arn.replace(ACCOUNT_PLACEHOLDER, "123456789012")
            if not re.fullmatch(r"arn:[\w-]+:iam::\d{12}:role/.+", sample):
                raise UsageError(f"--role-arn {self.role_arn!r} is not an IAM role ARN template")
        if not _SESSION_NAME.fullmatch(self.session_name):
            raise UsageError(
                f"--role-session-name {self.session_name!r}: 2 to 64 letters, digits or +=,.@_- "
                f"({facts.URL_ASSUME_ROLE})"
            )
        if not facts.ASSUME_ROLE_DURATION_MIN <= self.duration <= facts.ASSUME_ROLE_DURATION_MAX:
            raise UsageError(
                f"--role-duration must be between {facts.ASSUME_ROLE_DURATION_MIN} and "
                f"{facts.ASSUME_ROLE_DURATION_MAX} seconds, not {self.duration}"
            )
        if self.external_id is not None and not _EXTERNAL_ID.fullmatch(self.external_id):
            raise UsageError(f"--external-id: 2 to 1224 letters, digits or +=,.@:/_- ({facts.URL_ASSUME_ROLE})")

    def role_for(self, account: str) -> str:
        """The ARN of the role to assume in ``account``."""
        if self.role_arn is not None:
            return self.role_arn.replace(ACCOUNT_PLACEHOLDER, account)
        name = (self.role_name or "").strip("/")
        return f"arn:{self.partition}:iam::{account}:role/{name}"


@dataclass
class Assumed:
    """The outcome of assuming the role in one account: its clients, or why there are none."""

    account: str
    role_arn: str
    clients: Clients | None = None
    refused: RefusedCall | None = None


def discover(clients: Clients, region: str) -> list[str]:
    """Every active account of the organization, in the order AWS lists them (every page).

    A refusal or failure is fatal (``AccessDenied``/``AwsCallFailed``, exit 3): there is no
    account list to audit without it.
    """
    org = clients.client("organizations", region)

    def pages() -> list[str]:
        out: list[str] = []
        paginator = org.get_paginator("list_accounts")
        for page in paginator.paginate(PaginationConfig={"PageSize": facts.LIST_ACCOUNTS_MAX_RESULTS}):
            for item in page.get("Accounts", []):
                state = item.get("State") or item.get("Status")  # Status: before State (2025)
                if state == facts.ACCOUNT_ACTIVE_STATE and item.get("Id"):
                    out.append(str(item["Id"]))
        return out

    found: list[str] = call("organizations:ListAccounts", region, pages)
    return found


def assume(clients: Clients, account: str, spec: AccountRequest, region: str) -> Assumed:
    """Assume ``spec``'s role in ``account``; a refusal or failure is recorded, never raised."""
    role_arn = spec.role_for(account)
    sts = clients.client("sts", region)
    params: dict[str, object] = {
        "RoleArn": role_arn,
        "RoleSessionName": spec.session_name,
        "DurationSeconds": spec.duration,
    }
    if spec.external_id:
        params["ExternalId"] = spec.external_id
    try:
        answer = call(
            "sts:AssumeRole",
            region,
            lambda: sts.assume_role(**params),
            degrade_denied=True,
            degrade_errors=True,
        )
    except Refused as exc:
        consequence = (
            f"the role {role_arn} was not assumed (does it exist, and does its trust policy let this caller "
            f"assume it: {TRUST_POLICY_FILE}?), so nothing in the account is audited"
        )
        return Assumed(
            account,
            role_arn,
            refused=RefusedCall(exc.operation, exc.code, f"account {account}", consequence, exc.denied, exc.message),
        )
    creds = answer.get("Credentials") or {}
    if not all(creds.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")):
        consequence = f"the role {role_arn} gave no credentials, so nothing in the account is audited"
        return Assumed(
            account,
            role_arn,
            refused=RefusedCall(
                "sts:AssumeRole", "InvalidResponse", f"account {account}", consequence, False, "no Credentials"
            ),
        )
    temporary = TemporaryCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return Assumed(account, role_arn, clients=clients.assumed(temporary))


def unassumed_deployment(item: Assumed, region: str) -> Deployment:
    """An account the audit could not enter, as a deployment of its own (AV503 fails on it)."""
    assert item.refused is not None
    origin = Location(api_call="sts:AssumeRole", arn=item.role_arn)
    dep = Deployment(
        kind="live",
        root=item.account,
        account=item.account,
        provider=Provider(region=Value(region, origin), version_constraint=Value(Unknown(LIVE_PROVIDER))),
    )
    dep.refused_calls = [item.refused]
    return dep


def _names_for(account: str, names: list[str]) -> list[str]:
    """The clusters to look for in ``account``: every identifier, and the ARNs of that account."""
    return [n for n in names if not _arn_region(n) or arn_account(n) == account]


def audit_accounts(request: LiveRequest, spec: AccountRequest) -> LiveAudit:
    """Audit every account of ``spec``, each in every region of ``request``.

    Raises UsageError (bad options), InputError (no credentials of our own, an unreachable
    endpoint, a named cluster found in no account) or AccessDenied (the organization could
    not be listed); everything that happens in one account is reported for that account.
    """
    endpoint = request.connection.endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint:
        check_endpoint_reachable(endpoint)
    base = Clients(request.connection)
    plan = plan_regions(request, base)
    home = request.connection.sts_region or next(iter(plan))
    if spec.role_name:  # the role ARN's partition is the one of the regions audited
        spec = replace(spec, partition=base.session.get_partition_for_region(home) or "aws")
    accounts = list(dict.fromkeys(spec.ids))
    if spec.organization:
        accounts = list(dict.fromkeys(accounts + discover(base, home)))
    if not accounts:
        raise InputError("AWS Organizations", "the organization lists no active account", "nothing to audit")

    base.client("sts", home)  # created before the threads share it
    workers = max(1, min(len(accounts), request.jobs or DEFAULT_JOBS))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="live-assume") as pool:
        entered = list(pool.map(lambda account: assume(base, account, spec, home), accounts))

    tasks = [
        RegionTask(item.clients, region, _names_for(item.account, names), item.account)
        for item in entered
        if item.clients is not None
        for region, names in plan.items()
    ]
    results = read_regions(tasks, request, _Progress(request.progress)) if tasks else []
    by_account: dict[str, list[RegionData]] = {}
    for data in results:
        by_account.setdefault(data.account or "", []).append(data)

    deployments: list[Deployment] = []
    refused: list[RefusedCall] = []
    for item in entered:
        if item.clients is None:
            deployments.append(unassumed_deployment(item, home))
            refused.extend([item.refused] if item.refused is not None else [])
            continue
        found, failed = account_deployments(item.clients, by_account.get(item.account, []), request.knowledge_bases)
        deployments.extend(found)
        refused.extend(failed)

    if request.clusters:
        read = [d for d in results if not d.listing_failed]
        everywhere_read = len(read) == len(results) and all(i.clients is not None for i in entered)
        missing = _not_found(plan, read)
        if missing and everywhere_read:
            where = f"{', '.join(plan)} of {len(accounts)} account{'s' if len(accounts) != 1 else ''}"
            raise InputError(", ".join(missing), f"DB cluster not found in {where}", "not found")
    return LiveAudit(deployments=deployments, regions=list(plan), refused=refused, accounts=accounts)
