"""A knowledge base's service role read live from IAM into the model.

    from validator.sources.aws.iam import read_role
    found = read_role(clients, "arn:aws:iam::123456789012:role/kb-role")
    found.role        # validator.model.IamRole, or None
    found.refused     # calls AWS refused or that failed (AV503), each with what it left unknown
    attach_role(clients, kb, deployment, cache)  # the same, into a KnowledgeBase and its Deployment

Only read calls are sent (``live_aws.ROLE_OPERATIONS``), through the same guarded
clients the live audit uses: ``iam:GetRole`` (the trust policy and the permissions
boundary), ``iam:ListRolePolicies`` + ``iam:GetRolePolicy`` (inline policies),
``iam:ListAttachedRolePolicies`` + ``iam:GetPolicy`` + ``iam:GetPolicyVersion``
(attached managed policies, their default version). A refused call leaves what it
would have read unknown, with the reason, so AV204 reports it unresolved, never passed.
An AWS managed policy whose version cannot be read falls back to ``facts.AWS_MANAGED_POLICIES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from validator import facts
from validator.iam import parse_document
from validator.model import (
    Deployment,
    IamRole,
    KnowledgeBase,
    Location,
    PolicyDocument,
    RefusedCall,
    Unknown,
    Value,
)
from validator.sources.aws.client import Clients, Refused, call

# IAM is global: its endpoint lives in one region per partition.
IAM_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass
class RoleRead:
    """What reading one role gave: the role (None when it cannot be read) and the refusals."""

    role: IamRole | None
    refused: list[RefusedCall] = field(default_factory=list)
    # Why there is no role: it does not exist (``missing``) or it could not be read.
    reason: str = ""
    missing: bool = False


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def _document(raw: Any) -> Any:
    """A policy document as IAM returns it: decoded by botocore, or URL-encoded JSON text."""
    if isinstance(raw, str):
        text = unquote(raw)
        try:
            return json.loads(text)
        except ValueError:
            return text  # parse_document reports it
    return raw


@dataclass
class RoleCache:
    """Roles and managed policies already read in one audit: knowledge bases often share them."""

    roles: dict[str, RoleRead] = field(default_factory=dict)
    policies: dict[str, PolicyDocument] = field(default_factory=dict)


def read_role(clients: Clients, role_arn: str, cache: RoleCache | None = None) -> RoleRead:
    """The role ``role_arn`` names, with its trust policy and every permissions policy.

    With a ``cache``, a role or a managed policy is read once per audit; the refusals met
    reading it come back with it, so every deployment it affects reports them (AV503).
    """
    if cache is not None and role_arn in cache.roles:
        return cache.roles[role_arn]
    found = _read_role(clients, role_arn, cache.policies if cache is not None else {})
    if cache is not None:
        cache.roles[role_arn] = found
    return found


def _read_role(clients: Clients, role_arn: str, policies: dict[str, PolicyDocument]) -> RoleRead:
    region = IAM_REGION.get(_partition(role_arn), "us-east-1")
    iam = clients.client("iam", region)
    name = facts.role_name_of(role_arn)
    refused: list[RefusedCall] = []

    def loc(op: str, arn: str = role_arn) -> Location:
        return Location(api_call=op, arn=arn)

    def attempt(op: str, func: Any, consequence: str) -> Any:
        try:
            return call(op, region, func, degrade_denied=True, degrade_errors=True)
        except Refused as exc:
            refused.append(RefusedCall(exc.operation, exc.code, region, consequence, exc.denied))
            return exc

    got = attempt("iam:GetRole", lambda: _get_role(iam, name), "the knowledge base's role is unknown")
    if isinstance(got, Refused):
        return RoleRead(None, refused, f"iam:GetRole {_what(got)} ({got.code}): the role cannot be read")
    if got is None:
        return RoleRead(None, refused, f"the role {name} does not exist", missing=True)
    raw_role = got
    arn = str(raw_role.get("Arn") or role_arn)
    trust_raw = raw_role.get("AssumeRolePolicyDocument")
    trust = parse_document(
        _document(trust_raw) if trust_raw is not None else Unknown("iam:GetRole gave no AssumeRolePolicyDocument"),
        f"{name} trust policy",
        loc("iam:GetRole", arn),
    )
    role = IamRole(arn, loc("iam:GetRole", arn), name=Value(str(raw_role.get("RoleName") or name), loc("iam:GetRole")),
                   arn=Value(arn, loc("iam:GetRole")), trust_policy=trust)
    boundary = (raw_role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        role.permissions_boundary = Value(str(boundary), loc("iam:GetRole", arn))
        role.boundary_policy = _managed(iam, str(boundary), attempt, "the permissions boundary is unknown")

    names = attempt("iam:ListRolePolicies",
                    lambda: _pages(iam, "list_role_policies", "PolicyNames", RoleName=name),
                    "the role's inline policies are unknown")
    if isinstance(names, Refused):
        role.policies.append(PolicyDocument(f"{name} inline policies", Unknown(
            f"iam:ListRolePolicies {_what(names)} ({names.code})"), loc("iam:ListRolePolicies")))
    else:
        for policy_name in names:
            doc = attempt("iam:GetRolePolicy",
                          lambda p=policy_name: iam.get_role_policy(RoleName=name, PolicyName=p),
                          f"the inline policy {policy_name} is unknown")
            where = loc("iam:GetRolePolicy", f"{arn} {policy_name}")
            raw = (Unknown(f"iam:GetRolePolicy {_what(doc)} ({doc.code})") if isinstance(doc, Refused)
                   else _document(doc.get("PolicyDocument")))
            role.policies.append(parse_document(raw, f"{name} inline policy {policy_name}", where))

    attached = attempt("iam:ListAttachedRolePolicies",
                       lambda: _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name),
                       "the role's attached policies are unknown")
    if isinstance(attached, Refused):
        role.policies.append(PolicyDocument(f"{name} attached policies", Unknown(
            f"iam:ListAttachedRolePolicies {_what(attached)} ({attached.code})"),
            loc("iam:ListAttachedRolePolicies")))
    else:
        for item in attached:
            policy_arn = str(item.get("PolicyArn") or "")
            if not policy_arn:
                role.policies.append(PolicyDocument("an attached policy", Unknown(
                    "iam:ListAttachedRolePolicies gave an attachment without a PolicyArn"), role.origin))
                continue
            if policy_arn not in policies:
                policies[policy_arn] = _managed(iam, policy_arn, attempt, f"the policy {policy_arn} is unknown")
            role.policies.append(policies[policy_arn])
    return RoleRead(role, refused)


def _what(exc: Refused) -> str:
    return "was refused" if exc.denied else "failed"


def _get_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(iam.get_role(RoleName=name).get("Role") or {})
    except iam.exceptions.NoSuchEntityException:
        return None


def _pages(iam: Any, method: str, key: str, **params: Any) -> list[Any]:
    out: list[Any] = []
    for page in iam.get_paginator(method).paginate(**params):
        out.extend(page.get(key, []))
    return out


def _managed(iam: Any, policy_arn: str, attempt: Any, consequence: str) -> PolicyDocument:
    """A managed policy's default version (GetPolicy, GetPolicyVersion); the facts table as fallback."""
    where = Location(api_call="iam:GetPolicyVersion", arn=policy_arn)
    policy = attempt("iam:GetPolicy", lambda: iam.get_policy(PolicyArn=policy_arn), consequence)
    reason = ""
    if isinstance(policy, Refused):
        reason = f"iam:GetPolicy {_what(policy)} ({policy.code})"
    else:
        version = (policy.get("Policy") or {}).get("DefaultVersionId")
        if not version:
            reason = f"iam:GetPolicy gave no DefaultVersionId for {policy_arn}"
        else:
            got = attempt("iam:GetPolicyVersion",
                          lambda: iam.get_policy_version(PolicyArn=policy_arn, VersionId=version), consequence)
            if isinstance(got, Refused):
                reason = f"iam:GetPolicyVersion {_what(got)} ({got.code})"
            else:
                document = (got.get("PolicyVersion") or {}).get("Document")
                if document is not None:
                    return parse_document(_document(document), policy_arn, where)
                reason = f"iam:GetPolicyVersion gave no Document for {policy_arn}"
    if policy_arn.startswith(facts.AWS_MANAGED_POLICY_PREFIXES):
        entry = facts.AWS_MANAGED_POLICIES.get(policy_arn.rsplit("/", 1)[-1])
        if entry is not None:
            return parse_document(entry.document, policy_arn, Location(via=f"{reason}; copy from {entry.source}"))
    return PolicyDocument(policy_arn, Unknown(reason), where)


def attach_role(
    clients: Clients, kb: KnowledgeBase, deployment: Deployment, cache: RoleCache | None = None
) -> list[RefusedCall]:
    """Read the role ``kb.role_arn`` names into ``kb`` and its refusals into ``deployment`` (AV503).

    The entry point for a live source that builds knowledge bases (bedrock-agent GetKnowledgeBase).
    Returns the refusals it added to ``deployment`` (none it had already).
    """
    arn = kb.role_arn.raw if kb.role_arn is not None else None
    if not isinstance(arn, str) or not arn:
        kb.role_unresolved = "the knowledge base reports no roleArn"
        return []
    found = read_role(clients, arn, cache)
    kb.role, kb.role_unresolved, kb.role_missing = found.role, found.reason, found.missing
    added: list[RefusedCall] = []
    for refusal in found.refused:
        if refusal not in deployment.refused_calls:
            deployment.refused_calls.append(refusal)
            added.append(refusal)
    return added
