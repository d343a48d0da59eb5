"""Terraform IAM resources to the model: roles with their trust and permissions policies.

Reads ``aws_iam_role`` (``assume_role_policy``, ``inline_policy`` blocks,
``managed_policy_arns``), ``aws_iam_role_policy``, ``aws_iam_policy`` with
``aws_iam_role_policy_attachment``, and ``data "aws_iam_policy_document"`` (statements,
``source_policy_documents``, ``override_policy_documents``), for HCL and plan records
alike. Roles, policies and documents are linked by reference first (the evaluator's
``refs``), then by name or ARN. AWS managed policies come from ``facts.AWS_MANAGED_POLICIES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from validator import facts
from validator.model import (
    AttributeUnknown,
    EncodedUnknown,
    IamRole,
    Location,
    PolicyDocument,
    PolicyStatement,
    Unknown,
    Value,
)
from validator.sources.terraform.records import DYNAMIC_UNKNOWN, Record, RefStr, refs_of

IAM_TYPES = frozenset(
    {
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_policy",
        "aws_iam_role_policy_attachment",
        "data.aws_iam_policy_document",
    }
)


def _matches(ref: str, address: str) -> bool:
    return ref == address or (address.endswith("]") and address.split("[", 1)[0] == ref)


def _plain(raw: Any) -> Any:
    """Strings without reference wrappers; unknowns and structures kept."""
    if isinstance(raw, RefStr):
        return str(raw)
    if isinstance(raw, list | tuple):
        return [_plain(x) for x in raw]
    if isinstance(raw, dict):
        return {k: _plain(v) for k, v in raw.items()}
    return raw


def _refers_to(raw: Any, address: str) -> bool:
    return any(_matches(r, address) for r in refs_of(raw))


class _Documents:
    """``data "aws_iam_policy_document"`` records as policy documents, built on demand."""

    def __init__(self, records: list[Record]) -> None:
        self.records = {r.address: r for r in records}
        self.built: dict[str, PolicyDocument] = {}
        self.busy: set[str] = set()

    def by_ref(self, raw: Any) -> PolicyDocument | None:
        for address in self.records:
            if _refers_to(raw, address):
                return self.build(address)
        return None

    def build(self, address: str) -> PolicyDocument:
        if address in self.built:
            return self.built[address]
        rec = self.records[address]
        if address in self.busy:
            return PolicyDocument(address, Unknown(f"{address} includes itself"), rec.origin)
        self.busy.add(address)
        try:
            doc = self._build(rec)
        finally:
            self.busy.discard(address)
        self.built[address] = doc
        return doc

    def _build(self, rec: Record) -> PolicyDocument:
        name = rec.address
        statements: list[PolicyStatement] = []
        source = rec.get("source_policy_documents")
        if source is not None:
            for doc in self._included(source, name):
                if isinstance(doc.statements, Unknown):
                    return PolicyDocument(name, doc.statements, rec.origin)
                statements.extend(doc.statements)
        for block in rec.blocks.get("statement", []):
            st = _statement(block)
            if isinstance(st, Unknown):
                return PolicyDocument(name, st, block.origin)
            # A statement with the Sid of an included one replaces it.
            statements = [s for s in statements if not (st.sid and s.sid == st.sid)] + [st]
        override = rec.get("override_policy_documents")
        if override is not None:
            for doc in self._included(override, name):
                if isinstance(doc.statements, Unknown):
                    return PolicyDocument(name, doc.statements, rec.origin)
                for st in doc.statements:
                    if st.sid:
                        statements = [s for s in statements if s.sid != st.sid]
                    statements.append(st)
        return PolicyDocument(name, tuple(statements), rec.origin)

    def _included(self, value: Value[Any], name: str) -> list[PolicyDocument]:
        raw = value.raw
        if isinstance(raw, Unknown) and not isinstance(raw, EncodedUnknown):
            doc = self.by_ref(raw)
            return [doc] if doc else [PolicyDocument(name, Unknown(raw.reason, raw.refs), value.origin)]
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for item in items:
            out.append(document_of(Value(item, value.origin), f"a document {name} includes", self))
        return out


def _strings(rec: Record, name: str) -> tuple[Any, ...] | None:
    v = rec.get(name)
    if v is None:
        return None
    raw = _plain(v.raw)
    if isinstance(raw, Unknown):
        return (raw,)
    return tuple(raw) if isinstance(raw, list) else (raw,)


def _statement(block: Record) -> PolicyStatement | Unknown:
    if DYNAMIC_UNKNOWN in block.attrs:
        return Unknown(block.attrs[DYNAMIC_UNKNOWN].reason)
    for name in ("principals", "not_principals", "condition"):
        for nested in block.blocks.get(name, []):
            if DYNAMIC_UNKNOWN in nested.attrs:
                return Unknown(nested.attrs[DYNAMIC_UNKNOWN].reason)
    effect = block.get("effect")
    effect_raw = _plain(effect.raw) if effect is not None else "Allow"

    def principals(kind: str) -> Any:
        found = block.blocks.get(kind, [])
        if not found:
            return None
        out: dict[str, tuple[Any, ...]] = {}
        for p in found:
            ptype = p.get("type")
            if ptype is None or not ptype.known:
                return Unknown(f"a {kind} type is unknown")
            out[str(ptype.raw)] = out.get(str(ptype.raw), ()) + (_strings(p, "identifiers") or ())
        return out

    conditions: Any = None
    for c in block.blocks.get("condition", []):
        test, variable = c.get("test"), c.get("variable")
        if test is None or variable is None or not test.known or not variable.known:
            conditions = Unknown("a condition's test or variable is unknown")
            break
        conditions = conditions or {}
        conditions.setdefault(str(test.raw), {})[str(variable.raw)] = _strings(c, "values") or ()
    sid = block.get("sid")
    return PolicyStatement(
        effect=effect_raw,
        actions=_strings(block, "actions"),
        not_actions=_strings(block, "not_actions"),
        resources=_strings(block, "resources"),
        not_resources=_strings(block, "not_resources"),
        principals=principals("principals"),
        not_principals=principals("not_principals"),
        conditions=conditions,
        sid=str(sid.raw) if sid is not None and sid.known else "",
        origin=block.origin,
    )


def document_of(value: Value[Any], name: str, documents: _Documents) -> PolicyDocument:
    """A policy argument (JSON text, jsonencode() with unknowns, a policy document's json)."""
    from validator.iam import parse_document  # the evaluator's module loads only for configurations with IAM

    raw = value.raw
    if isinstance(raw, Unknown) and not isinstance(raw, EncodedUnknown):
        doc = documents.by_ref(raw)
        if doc is not None:
            return doc
        return PolicyDocument(name, raw, value.origin)
    if isinstance(raw, EncodedUnknown):
        return parse_document(_plain(raw.document), name, value.origin)
    return parse_document(_plain(raw), name, value.origin)


def managed_policy(arn: str, origin: Location) -> PolicyDocument:
    entry = facts.AWS_MANAGED_POLICIES.get(arn.split("/")[-1]) if arn.startswith(facts.AWS_MANAGED_POLICY_PREFIXES) \
        else None
    if entry is None:
        reason = f"{arn} is an AWS managed policy the scan has no copy of" if arn.startswith(
            facts.AWS_MANAGED_POLICY_PREFIXES) else f"{arn} is not declared in this configuration"
        return PolicyDocument(arn, Unknown(reason), origin)
    from validator.iam import parse_document

    return parse_document(entry.document, arn, origin)


def build_roles(by_type: dict[str, list[Record]]) -> list[IamRole]:
    """Every aws_iam_role with the policies that reach it."""
    documents = _Documents(by_type.get("data.aws_iam_policy_document", []))
    policies = {r.address: r for r in by_type.get("aws_iam_policy", [])}

    def customer_policy(raw: Any, origin: Location) -> PolicyDocument | None:
        for address, rec in policies.items():
            arn = rec.get("arn")
            if _refers_to(raw, address) or (isinstance(raw, str) and arn is not None and arn.raw == raw):
                policy = rec.get("policy")
                if policy is None:
                    return PolicyDocument(address, Unknown(f"{address} has no policy"), rec.origin)
                return document_of(policy, address, documents)
        return None

    def attached(raw: Any, origin: Location) -> PolicyDocument:
        found = customer_policy(raw, origin)
        if found is not None:
            return found
        if isinstance(raw, str):
            return managed_policy(str(raw), origin)
        reason = raw.reason if isinstance(raw, Unknown) else f"policy_arn {raw!r} cannot be read"
        return PolicyDocument("an attached policy", Unknown(reason), origin)

    roles: list[IamRole] = []
    for rec in by_type.get("aws_iam_role", []):
        name = rec.get("name") or Value(Unknown(f"{rec.address} has no name (Terraform generates one)"), rec.origin)
        arn = rec.get("arn") or Value(
            AttributeUnknown(f"{rec.address}.arn is known only after apply", (rec.address,), f"{rec.address}.arn"),
            rec.origin,
        )
        trust_value = rec.get("assume_role_policy")
        trust = document_of(trust_value, f"{rec.address} assume_role_policy", documents) if trust_value else None
        role = IamRole(rec.address, rec.origin, name=Value(_plain(name.raw), name.origin), arn=arn,
                       trust_policy=trust, permissions_boundary=rec.get("permissions_boundary"))
        if role.permissions_boundary is not None:
            role.boundary_policy = attached(role.permissions_boundary.raw, role.permissions_boundary.origin)
        for block in rec.blocks.get("inline_policy", []):
            if DYNAMIC_UNKNOWN in block.attrs:
                role.incomplete.append(f"{rec.address} has inline_policy blocks the scan cannot expand")
                continue
            policy = block.get("policy")
            if policy is not None:
                pname = block.get("name")
                label = f"{rec.address} inline_policy {pname.raw!r}" if pname and pname.known else \
                    f"{rec.address} inline_policy"
                role.policies.append(document_of(policy, label, documents))
        arns = rec.get("managed_policy_arns")
        if arns is not None:
            items = arns.raw if isinstance(arns.raw, list) else [arns.raw]
            for item in items:
                role.policies.append(attached(item, arns.origin))
        roles.append(role)

    def role_for(value: Value[Any] | None) -> list[IamRole]:
        if value is None:
            return []
        linked = [r for r in roles if _refers_to(value.raw, r.address)]
        if linked or not isinstance(value.raw, str):
            return linked
        return [r for r in roles if r.name.known and r.name.raw == str(value.raw)]

    def unlinked(rec: Record, value: Value[Any] | None) -> str:
        raw = value.raw if value is not None else None
        if isinstance(raw, Unknown):
            return f"{rec.address} attaches a policy to a role the scan cannot tell ({raw.reason})"
        return ""

    loose: list[str] = []
    for rec in by_type.get("aws_iam_role_policy", []):
        targets = role_for(rec.get("role"))
        policy = rec.get("policy")
        for role in targets:
            if policy is None:
                continue
            role.policies.append(document_of(policy, rec.address, documents))
        if not targets and (why := unlinked(rec, rec.get("role"))):
            loose.append(why)
    for rec in by_type.get("aws_iam_role_policy_attachment", []):
        targets = role_for(rec.get("role"))
        policy_arn = rec.get("policy_arn")
        for role in targets:
            if policy_arn is None:
                continue
            doc = attached(policy_arn.raw, policy_arn.origin)
            role.policies.append(doc)
        if not targets and (why := unlinked(rec, rec.get("role"))):
            loose.append(why)
    for role in roles:
        role.incomplete.extend(loose)
    return roles


def link_role(
    role_arn: Value[Any] | None, roles: list[IamRole], name_of: Callable[[str], str]
) -> tuple[IamRole | None, str]:
    """The role a knowledge base's role_arn names, or why there is none to read."""
    if role_arn is None or role_arn.raw is None:
        return None, "the knowledge base sets no role_arn"
    raw = role_arn.raw
    for role in roles:
        if _refers_to(raw, role.address):
            return role, ""
    if isinstance(raw, str):
        name = name_of(str(raw))
        for role in roles:
            if role.name.known and role.name.raw == name:
                return role, ""
        return None, f"role_arn {raw} names a role this configuration does not declare (a live audit reads it)"
    reason = raw.reason if isinstance(raw, Unknown) else "it cannot be read"
    return None, f"the role role_arn names cannot be told: {reason}"
