"""IAM policy evaluation: may this role do this action on this resource?

A small evaluator of our own, for the one question AV204 asks of a role's policies
(identity-based policies plus a permissions boundary; no SCPs, no resource policies,
no session policies). It follows the IAM policy evaluation logic: an explicit ``Deny``
wins, then an ``Allow``, else the request is implicitly denied. Wildcards (``*``, ``?``)
in actions (case-insensitive) and resources (case-sensitive), ``NotAction``,
``NotResource``, ``Principal``/``NotPrincipal`` and conditions are read; a condition
is not evaluated (the scan knows no request context), so a statement that needs one
makes the answer unknown, with the reason.

Why not a library (measured by ``bench/bench_iam_libraries.py`` in a separate venv:
policyuniverse 1.5.1, parliament 1.6.4, policy_sentry 0.15.2): ``parliament`` is the only
one that answers "is ACTION allowed on RESOURCE", and it answered 4 of 7 constructs wrong
(a wildcard resource, ``NotResource``, an explicit ``Deny`` on one ARN, a ``Deny`` with a
condition: all "allowed") and takes about 3 s to import; ``policyuniverse`` (1.1 s) summarises
actions by service and has no resource question; ``policy_sentry`` (0.1 s) writes and expands
policies but evaluates none. None has a notion of a value known only after apply, which
every Terraform configuration needs. This module answers all 7, and the rule imports it only when a
knowledge base has a role to read.

Values in a statement are strings or :class:`~validator.model.Unknown`. A resource
pattern that is unknown still matches the target when both read the same attribute of
the same resource (:class:`~validator.model.AttributeUnknown` with the same path).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from validator.lazy_dataclass import lazy_dataclass
from validator.model import (
    NOWHERE,
    AttributeUnknown,
    EncodedUnknown,
    Location,
    PolicyDocument,
    PolicyStatement,
    Unknown,
)

# A part of an ARN the scan does not know (a region or account known only at plan time).
HOLE = "\x00"


# --------------------------------------------------------------------------- #
# Wildcards


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(f"[^{HOLE}]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whether an IAM wildcard pattern matches a value (``*`` any run, ``?`` one character).

    With holes (``HOLE``) in ``value``, true only when the pattern matches whatever each
    hole stands for: a hole can be consumed only by a ``*``.
    """
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def globs_intersect(a: str, b: str, ignore_case: bool = False) -> bool:
    """Whether some string matches both patterns.

    A ``HOLE`` in ``b`` stands for any run of characters without a colon (an unknown
    region, account or name inside an ARN).
    """
    if ignore_case:
        a, b = a.lower(), b.lower()
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        ca = a[i] if i < len(a) else ""
        cb = b[j] if j < len(b) else ""
        if ca == "*":
            stack.append((i + 1, j))  # the star stands for nothing more
            if cb:
                stack.append((i, j + 1))  # the star takes what b[j] stands for
        if cb in ("*", HOLE):
            stack.append((i, j + 1))
            if ca and (cb == "*" or ca != ":"):
                stack.append((i + 1, j))  # b's wildcard takes a[i] (a hole takes no colon)
        if ca and cb and ca != "*" and cb not in ("*", HOLE) and (ca == cb or "?" in (ca, cb)):
            stack.append((i + 1, j + 1))
    return False


# --------------------------------------------------------------------------- #
# Reading documents


def parse_document(raw: Any, name: str, origin: Location = NOWHERE) -> PolicyDocument:
    """A policy document from JSON text, a decoded structure, or an Unknown (kept as such)."""
    if isinstance(raw, EncodedUnknown):
        raw = raw.document
    if isinstance(raw, Unknown):
        return PolicyDocument(name, raw, origin)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            return PolicyDocument(name, Unknown(f"{name} is not valid JSON: {exc}"), origin)
    if not isinstance(raw, dict):
        return PolicyDocument(name, Unknown(f"{name} is not a JSON object"), origin)
    statements = raw.get("Statement")
    if isinstance(statements, Unknown):
        return PolicyDocument(name, statements, origin)
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return PolicyDocument(name, Unknown(f"{name} has no Statement list"), origin)
    out = []
    for item in statements:
        if isinstance(item, Unknown):
            return PolicyDocument(name, Unknown(f"a statement of {name} cannot be read: {item.reason}", item.refs),
                                  origin)
        if not isinstance(item, dict):
            return PolicyDocument(name, Unknown(f"a statement of {name} is not an object"), origin)
        out.append(statement_from_json(item, origin))
    return PolicyDocument(name, tuple(out), origin)


def _elements(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _principals(value: Any) -> Any:
    if value is None or isinstance(value, Unknown):
        return value
    if value == "*":
        return {"*": ("*",)}
    if isinstance(value, dict):
        return {str(k): _elements(v) or () for k, v in value.items()}
    return Unknown(f"Principal {value!r} is not an object")


def _conditions(value: Any) -> Any:
    if value is None or isinstance(value, Unknown):
        return value
    if not isinstance(value, dict):
        return Unknown("Condition is not an object")
    out: dict[str, Any] = {}
    for op, entries in value.items():
        if isinstance(entries, Unknown) or not isinstance(entries, dict):
            out[str(op)] = entries if isinstance(entries, Unknown) else Unknown(f"Condition {op} is not an object")
            continue
        out[str(op)] = {str(k): _elements(v) or () for k, v in entries.items()}
    return out


def statement_from_json(item: dict[str, Any], origin: Location = NOWHERE) -> PolicyStatement:
    sid = item.get("Sid")
    return PolicyStatement(
        effect=item.get("Effect", Unknown("the statement has no Effect")),
        actions=_elements(item.get("Action")),
        not_actions=_elements(item.get("NotAction")),
        resources=_elements(item.get("Resource")),
        not_resources=_elements(item.get("NotResource")),
        principals=_principals(item.get("Principal")),
        not_principals=_principals(item.get("NotPrincipal")),
        conditions=_conditions(item.get("Condition")) or None,
        sid=sid if isinstance(sid, str) else "",
        origin=origin,
    )


# --------------------------------------------------------------------------- #
# Targets and verdicts


@lazy_dataclass(frozen=True)
class Target:
    """The resource a request is for.

    ``arn`` when it is known; else ``shape``, the ARN with a ``HOLE`` for each unknown
    part (``arn:\\0:rds:\\0:\\0:cluster:kb``), and ``ref``, the attribute that holds it
    (``aws_rds_cluster.kb.arn``) for comparing by reference.
    """

    what: str  # "the cluster", "the credentials secret"
    arn: str | None = None
    shape: str | None = None
    ref: str | None = None
    unknown_reason: str = ""

    @classmethod
    def of(cls, what: str, raw: Any, shape: str | None = None, ref: str | None = None) -> Target:
        if isinstance(raw, str) and raw:
            return cls(what, arn=str(raw))
        if isinstance(raw, AttributeUnknown):
            return cls(what, shape=shape, ref=ref or raw.path, unknown_reason=raw.reason)
        reason = raw.reason if isinstance(raw, Unknown) else "it is not set"
        return cls(what, shape=shape, ref=ref, unknown_reason=reason)

    def describe(self) -> str:
        return self.arn or self.ref or what_unknown(self)


def what_unknown(t: Target) -> str:
    return f"{t.what} (unknown: {t.unknown_reason})" if t.unknown_reason else t.what


class Decision(str, enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    IMPLICIT_DENY = "implicit deny"  # no statement allows it
    UNKNOWN = "unknown"


@lazy_dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str  # for UNKNOWN: why; otherwise which statement decided
    origin: Location = NOWHERE


# A three-state match: True, False, or the reason it cannot be told.
Match = bool | str


def _fold(matches: Iterable[Match], decisive: bool) -> Match:
    """``decisive`` as soon as one match is; else the first reason a match could not be told; else not."""
    reason = ""
    for m in matches:
        if m is decisive:
            return decisive
        if isinstance(m, str) and not reason:
            reason = m
    return reason or not decisive


def _all(matches: Iterable[Match]) -> Match:
    return _fold(matches, False)


def _any(matches: Iterable[Match]) -> Match:
    return _fold(matches, True)


def _negate(m: Match) -> Match:
    return m if isinstance(m, str) else not m


def action_matches(pattern: Any, action: str) -> Match:
    if isinstance(pattern, Unknown):
        return f"an action is unknown: {pattern.reason}"
    return glob_match(str(pattern), action, ignore_case=True)


def resource_matches(pattern: Any, target: Target) -> Match:
    if isinstance(pattern, AttributeUnknown):
        if target.ref is not None and pattern.path == target.ref:
            return True
        if target.arn is not None or target.ref is not None:
            return f"a resource is {pattern.path}, known only after apply, and {target.what} is {target.describe()}"
        return f"a resource is {pattern.path}, known only after apply"
    if isinstance(pattern, Unknown):
        return f"a resource is unknown: {pattern.reason}"
    text = str(pattern)
    if target.arn is not None:
        return glob_match(text, target.arn)
    if text == "*":
        return True
    if target.shape is not None:
        if glob_match(text, target.shape):
            return True
        if not globs_intersect(text, target.shape):
            return False
    return f"whether {text!r} matches {what_unknown(target)} cannot be told before apply"


def _action_applies(st: PolicyStatement, action: str) -> Match:
    if st.actions is not None:
        return _any(action_matches(p, action) for p in st.actions)
    if st.not_actions is not None:
        return _negate(_any(action_matches(p, action) for p in st.not_actions))
    return False  # neither Action nor NotAction: not a valid statement, it grants nothing


def _resource_applies(st: PolicyStatement, target: Target) -> Match:
    if st.resources is not None:
        return _any(resource_matches(p, target) for p in st.resources)
    if st.not_resources is not None:
        return _negate(_any(resource_matches(p, target) for p in st.not_resources))
    return False


def _condition_applies(st: PolicyStatement, ignore_keys: frozenset[str] = frozenset()) -> Match:
    if st.conditions is None:
        return True
    if isinstance(st.conditions, Unknown):
        return f"its Condition cannot be read: {st.conditions.reason}"
    keys: list[str] = []
    for op, entries in st.conditions.items():
        if not isinstance(entries, dict):
            return f"its Condition {op} cannot be read"
        keys.extend(f"{op} {k}" for k in entries if k.lower() not in ignore_keys)
    if not keys:
        return True
    return f"it has a condition the scan cannot evaluate ({', '.join(sorted(keys))})"


def _where(st: PolicyStatement, doc: PolicyDocument) -> str:
    sid = f" (Sid {st.sid})" if st.sid else ""
    return f"{doc.name}{sid}"


def evaluate(
    documents: Sequence[PolicyDocument],
    action: str,
    target: Target,
    boundary: Sequence[PolicyDocument] | None = None,
) -> Verdict:
    """The identity-based evaluation of ``action`` on ``target`` over the given policies."""
    verdict = _evaluate(documents, action, target)
    if boundary is None or verdict.decision is not Decision.ALLOW:
        return verdict
    limit = _evaluate(boundary, action, target)
    if limit.decision is Decision.ALLOW:
        return verdict
    if limit.decision is Decision.UNKNOWN:
        return Verdict(Decision.UNKNOWN, f"the permissions boundary: {limit.reason}", limit.origin)
    return Verdict(Decision.IMPLICIT_DENY, f"the permissions boundary does not allow {action}", limit.origin)


def _evaluate(documents: Sequence[PolicyDocument], action: str, target: Target) -> Verdict:
    allow: Verdict | None = None
    doubt: Verdict | None = None
    deny_doubt: Verdict | None = None
    for doc in documents:
        if isinstance(doc.statements, Unknown):
            doubt = doubt or Verdict(Decision.UNKNOWN, f"{doc.name} cannot be read: {doc.statements.reason}",
                                     doc.origin)
            continue
        for st in doc.statements:
            applies = _all((_action_applies(st, action), _resource_applies(st, target), _condition_applies(st)))
            if applies is False:
                continue
            effect = st.effect
            if isinstance(effect, Unknown):
                doubt = doubt or Verdict(Decision.UNKNOWN, f"the Effect of {_where(st, doc)} is unknown: "
                                         f"{effect.reason}", st.origin)
                continue
            where = _where(st, doc)
            if str(effect) == "Deny":
                if applies is True:
                    return Verdict(Decision.DENY, f"{where} denies {action}", st.origin)
                deny_doubt = deny_doubt or Verdict(Decision.UNKNOWN, f"{where} may deny {action}: {applies}",
                                                   st.origin)
            elif str(effect) == "Allow":
                if applies is True:
                    allow = allow or Verdict(Decision.ALLOW, f"{where} allows {action}", st.origin)
                else:
                    doubt = doubt or Verdict(Decision.UNKNOWN, f"{where} may allow {action}: {applies}", st.origin)
    if deny_doubt is not None:
        return deny_doubt
    if allow is not None:
        return allow
    if doubt is not None:
        return doubt
    return Verdict(Decision.IMPLICIT_DENY, f"no statement allows {action} on {target.describe()}")


# --------------------------------------------------------------------------- #
# Trust policies

# Condition keys AWS recommends on a service role's trust policy (confused deputy).
CONFUSED_DEPUTY_KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn"})


@lazy_dataclass(frozen=True)
class TrustVerdict:
    decision: Decision
    reason: str
    origin: Location = NOWHERE
    # Whether the statement that lets the service in limits it with aws:SourceAccount/aws:SourceArn.
    confused_deputy_guarded: bool = False


def _principal_matches(principals: Any, service: str) -> Match:
    if principals is None:
        return False
    if isinstance(principals, Unknown):
        return f"its Principal is unknown: {principals.reason}"
    results: list[Match] = []
    for kind, values in principals.items():
        if kind == "*":
            results.append(True)
            continue
        if kind not in ("Service", "AWS"):
            continue
        for v in values:
            if isinstance(v, Unknown):
                results.append(f"a principal is unknown: {v.reason}")
            elif kind == "AWS":
                results.append(str(v) == "*")
            else:
                results.append(str(v).lower() == service.lower())
    return _any(results)


def _guarded(st: PolicyStatement) -> bool:
    if not isinstance(st.conditions, dict):
        return False
    for entries in st.conditions.values():
        if isinstance(entries, dict) and any(k.lower() in CONFUSED_DEPUTY_KEYS for k in entries):
            return True
    return False


def trusts_service(doc: PolicyDocument | None, service: str, action: str = "sts:AssumeRole") -> TrustVerdict:
    """Whether the trust policy lets ``service`` assume the role.

    Conditions on ``aws:SourceAccount``/``aws:SourceArn`` are taken to hold (they are what
    AWS recommends, and Bedrock sets them to the knowledge base's own account and ARN); any
    other condition makes the answer unknown.
    """
    if doc is None:
        return TrustVerdict(Decision.UNKNOWN, "the role's trust policy is not known")
    if isinstance(doc.statements, Unknown):
        return TrustVerdict(Decision.UNKNOWN, f"the trust policy cannot be read: {doc.statements.reason}",
                            doc.origin)
    allow: TrustVerdict | None = None
    doubt: TrustVerdict | None = None  # a statement that may let the service in
    deny_doubt: TrustVerdict | None = None  # a Deny that may apply
    for st in doc.statements:
        if st.not_principals is not None:
            principal: Match = "it uses NotPrincipal"
        else:
            principal = _principal_matches(st.principals, service)
        applies = _all((_action_applies(st, action), principal, _condition_applies(st, CONFUSED_DEPUTY_KEYS)))
        if applies is False:
            continue
        effect = st.effect
        where = _where(st, doc)
        if isinstance(effect, Unknown):
            doubt = doubt or TrustVerdict(Decision.UNKNOWN, f"the Effect of {where} is unknown", st.origin)
        elif str(effect) == "Deny":
            if applies is True:
                return TrustVerdict(Decision.DENY, f"{where} denies {service} {action}", st.origin)
            deny_doubt = deny_doubt or TrustVerdict(Decision.UNKNOWN, f"{where} may deny {service}: {applies}",
                                                    st.origin)
        elif str(effect) == "Allow":
            if applies is True:
                if allow is None or (_guarded(st) and not allow.confused_deputy_guarded):
                    allow = TrustVerdict(Decision.ALLOW, f"{where} lets {service} assume the role", st.origin,
                                         _guarded(st))
            else:
                doubt = doubt or TrustVerdict(Decision.UNKNOWN, f"{where} may let {service} in: {applies}", st.origin)
    if deny_doubt is not None:
        return deny_doubt
    if allow is not None:
        return allow
    if doubt is not None:
        return doubt
    return TrustVerdict(Decision.IMPLICIT_DENY, f"no statement lets {service} {action}", doc.origin)
