"""The IAM policy evaluator (validator.iam) on every construct AV204 reads."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validator.iam import (
    HOLE,
    Decision,
    Target,
    evaluate,
    glob_match,
    globs_intersect,
    parse_document,
    trusts_service,
)
from validator.model import AttributeUnknown, Unknown

CLUSTER = "arn:aws:rds:us-east-1:111122223333:cluster:kb"
CLUSTER_REF = AttributeUnknown("aws_rds_cluster.kb.arn is known only after apply", ("aws_rds_cluster.kb",),
                               "aws_rds_cluster.kb.arn")


def doc(*statements: dict) -> object:
    return parse_document({"Version": "2012-10-17", "Statement": list(statements)}, "policy")


def allow(**kw: object) -> dict:
    return {"Effect": "Allow", **kw}


def deny(**kw: object) -> dict:
    return {"Effect": "Deny", **kw}


def decide(policy: object, action: str = "rds-data:ExecuteStatement", target: Target | None = None) -> Decision:
    return evaluate([policy], action, target or Target("the cluster", arn=CLUSTER)).decision


# --------------------------------------------------------------------------- #
# Wildcards


def _reference_match(pattern: str, value: str) -> bool:
    """A plain recursive matcher to compare against (``*`` any run, ``?`` one character)."""
    if not pattern:
        return not value
    if pattern[0] == "*":
        return any(_reference_match(pattern[1:], value[i:]) for i in range(len(value) + 1))
    return bool(value) and (pattern[0] in ("?", value[0])) and _reference_match(pattern[1:], value[1:])


ALPHABET = "ab:*?"
patterns = st.text(alphabet=ALPHABET, max_size=8)
values = st.text(alphabet="ab:", max_size=8)
fills = st.text(alphabet="ab", max_size=3)


@given(patterns, values)
def test_glob_match_agrees_with_a_reference_matcher(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == _reference_match(pattern, value)


@given(patterns, values)
def test_intersection_with_a_plain_string_is_matching(pattern: str, value: str) -> None:
    assert globs_intersect(pattern, value) == _reference_match(pattern, value)


@given(patterns, st.lists(st.text(alphabet="ab:", max_size=3), min_size=1, max_size=3), st.data())
def test_holes_are_sound_both_ways(pattern: str, pieces: list[str], data: st.DataObject) -> None:
    """A definite match holds for every filling of the holes; a definite miss for none."""
    shape = HOLE.join(pieces)
    filled = "".join(p + (data.draw(fills) if i < len(pieces) - 1 else "") for i, p in enumerate(pieces))
    if glob_match(pattern, shape):
        assert _reference_match(pattern, filled), (pattern, shape, filled)
    if not globs_intersect(pattern, shape):
        assert not _reference_match(pattern, filled), (pattern, shape, filled)


def test_a_hole_takes_no_colon() -> None:
    shape = f"arn:aws:secretsmanager:us-east-1:{HOLE}:secret:rds!cluster-{HOLE}"
    assert not globs_intersect("arn:aws:secretsmanager:*:*:secret:rds-db-credentials/*", shape)
    assert globs_intersect("arn:aws:secretsmanager:*:*:secret:rds!*", shape)
    assert glob_match("arn:aws:secretsmanager:*:*:secret:rds!*", shape)
    assert not glob_match("arn:aws:secretsmanager:us-east-1:111122223333:secret:*", shape)


def test_actions_ignore_case_and_resources_do_not() -> None:
    assert decide(doc(allow(Action="RDS-DATA:executestatement", Resource="*"))) is Decision.ALLOW
    assert decide(doc(allow(Action="rds-data:*", Resource=CLUSTER.upper()))) is Decision.IMPLICIT_DENY


# --------------------------------------------------------------------------- #
# Policy logic


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow(Action="rds-data:ExecuteStatement", Resource=CLUSTER)], Decision.ALLOW),
        ([allow(Action=["rds-data:*"], Resource=["arn:aws:rds:*:*:cluster:*"])], Decision.ALLOW),
        ([allow(Action="rds-data:Execute?tatement", Resource="arn:aws:rds:us-east-1:*:cluster:k?")], Decision.ALLOW),
        ([allow(Action="*", Resource="*")], Decision.ALLOW),
        ([allow(Action="rds-data:BatchExecuteStatement", Resource=CLUSTER)], Decision.IMPLICIT_DENY),
        ([allow(Action="rds-data:*", Resource="arn:aws:rds:*:*:cluster:other")], Decision.IMPLICIT_DENY),
        ([allow(NotAction="iam:*", Resource="*")], Decision.ALLOW),
        ([allow(NotAction=["rds-data:*"], Resource="*")], Decision.IMPLICIT_DENY),
        ([allow(Action="rds-data:*", NotResource="arn:aws:rds:*:*:cluster:other")], Decision.ALLOW),
        ([allow(Action="rds-data:*", NotResource=CLUSTER)], Decision.IMPLICIT_DENY),
        ([allow(Action="*", Resource="*"), deny(Action="rds-data:*", Resource=CLUSTER)], Decision.DENY),
        ([allow(Action="*", Resource="*"), deny(NotAction="rds-data:*", Resource="*")], Decision.ALLOW),
        ([allow(Action="*", Resource="*"), deny(Action="*", NotResource=CLUSTER)], Decision.ALLOW),
        ([deny(Action="rds-data:*", Resource="*")], Decision.DENY),
        ([allow(Action="rds-data:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}})],
         Decision.UNKNOWN),
        ([allow(Action="*", Resource="*"),
          deny(Action="*", Resource="*", Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})],
         Decision.UNKNOWN),
        ([allow(Action="*", Resource="*"), deny(Action="s3:*", Resource="*", Condition={"Bool": {"x": "y"}})],
         Decision.ALLOW),
        ([{"Action": "*", "Resource": "*"}], Decision.UNKNOWN),  # no Effect
        ([allow(Resource="*")], Decision.IMPLICIT_DENY),  # no Action: grants nothing
    ],
)
def test_evaluation(statements: list[dict], expected: Decision) -> None:
    assert decide(doc(*statements)) is expected


def test_deny_in_another_document_wins() -> None:
    verdict = evaluate([doc(allow(Action="*", Resource="*")), doc(deny(Action="rds-data:*", Resource="*"))],
                       "rds-data:ExecuteStatement", Target("the cluster", arn=CLUSTER))
    assert verdict.decision is Decision.DENY and "denies rds-data:ExecuteStatement" in verdict.reason


def test_an_unreadable_document_makes_a_missing_permission_unknown() -> None:
    unreadable = parse_document(Unknown("data.x is read at plan time"), "policy")
    verdict = evaluate([doc(), unreadable], "rds-data:ExecuteStatement", Target("the cluster", arn=CLUSTER))
    assert verdict.decision is Decision.UNKNOWN and "data.x is read at plan time" in verdict.reason


def test_a_permissions_boundary_narrows() -> None:
    target = Target("the cluster", arn=CLUSTER)
    policies = [doc(allow(Action="*", Resource="*"))]
    assert evaluate(policies, "rds-data:ExecuteStatement", target, [doc(allow(Action="rds:*", Resource="*"))]
                    ).decision is Decision.IMPLICIT_DENY
    assert evaluate(policies, "rds-data:ExecuteStatement", target, [doc(allow(Action="rds-data:*", Resource="*"))]
                    ).decision is Decision.ALLOW


# --------------------------------------------------------------------------- #
# Values known only after apply


def test_same_attribute_matches_by_reference() -> None:
    target = Target.of("the cluster", CLUSTER_REF)
    assert decide(doc(allow(Action="rds-data:*", Resource=[CLUSTER_REF])), target=target) is Decision.ALLOW


def test_another_attribute_of_the_same_resource_does_not_match() -> None:
    target = Target.of("the cluster", CLUSTER_REF)
    other = AttributeUnknown(CLUSTER_REF.reason, CLUSTER_REF.refs, "aws_rds_cluster.kb.cluster_resource_id")
    verdict = evaluate([doc(allow(Action="rds-data:*", Resource=[other]))], "rds-data:ExecuteStatement", target)
    assert verdict.decision is Decision.UNKNOWN and "cluster_resource_id" in verdict.reason


def test_a_plain_unknown_is_never_taken_for_the_target() -> None:
    """An unknown made by a function or a template may be anything: unresolved, not a match."""
    target = Target.of("the cluster", CLUSTER_REF)
    derived = Unknown(CLUSTER_REF.reason, CLUSTER_REF.refs)  # e.g. "${aws_rds_cluster.kb.arn}/x"
    assert decide(doc(allow(Action="rds-data:*", Resource=[derived])), target=target) is Decision.UNKNOWN


def test_shape_of_an_unknown_arn() -> None:
    shape = f"arn:aws:rds:us-east-1:{HOLE}:cluster:kb"
    target = Target.of("the cluster", CLUSTER_REF, shape)
    assert decide(doc(allow(Action="rds-data:*", Resource="arn:aws:rds:*:*:cluster:*")), target=target) \
        is Decision.ALLOW
    assert decide(doc(allow(Action="rds-data:*", Resource="arn:aws:rds:*:*:cluster:other")), target=target) \
        is Decision.IMPLICIT_DENY
    assert decide(doc(allow(Action="rds-data:*", Resource="arn:aws:rds:us-east-1:111122223333:cluster:kb")),
                  target=target) is Decision.UNKNOWN


# --------------------------------------------------------------------------- #
# Trust policies


def trust(*statements: dict) -> object:
    return doc(*statements)


ASSUME = {"Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    ("statements", "expected", "guarded"),
    [
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME)], Decision.ALLOW, False),
        ([allow(Principal={"Service": ["ec2.amazonaws.com", "bedrock.amazonaws.com"]}, **ASSUME)],
         Decision.ALLOW, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME,
                Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}})], Decision.ALLOW, True),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME,
                Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:bedrock:*:111122223333:knowledge-base/*"}})],
         Decision.ALLOW, True),
        ([allow(Principal="*", **ASSUME)], Decision.ALLOW, False),
        ([allow(Principal={"Service": "ec2.amazonaws.com"}, **ASSUME)], Decision.IMPLICIT_DENY, False),
        ([allow(Principal={"AWS": "arn:aws:iam::111122223333:root"}, **ASSUME)], Decision.IMPLICIT_DENY, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, Action="sts:TagSession")],
         Decision.IMPLICIT_DENY, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME,
                Condition={"StringEquals": {"aws:PrincipalTag/x": "y"}})], Decision.UNKNOWN, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME),
          deny(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME)], Decision.DENY, False),
        ([allow(NotPrincipal={"Service": "ec2.amazonaws.com"}, **ASSUME)], Decision.UNKNOWN, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME),
          deny(Principal="*", **ASSUME, Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
         Decision.UNKNOWN, False),
        ([allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME),
          allow(Principal={"Service": "bedrock.amazonaws.com"}, **ASSUME, Condition={"Bool": {"x": "y"}})],
         Decision.ALLOW, False),
    ],
)
def test_trust(statements: list[dict], expected: Decision, guarded: bool) -> None:
    verdict = trusts_service(trust(*statements), "bedrock.amazonaws.com")
    assert verdict.decision is expected, verdict.reason
    assert verdict.confused_deputy_guarded is guarded


# --------------------------------------------------------------------------- #
# Reading documents


def test_documents_as_text_and_as_structures() -> None:
    text = json.dumps({"Statement": {"Effect": "Allow", "Action": "rds-data:*", "Resource": "*"}})
    parsed = parse_document(text, "p")
    assert not isinstance(parsed.statements, Unknown) and len(parsed.statements) == 1
    assert parsed.statements[0].actions == ("rds-data:*",)
    broken = parse_document("{not json", "p")
    assert isinstance(broken.statements, Unknown) and re.search("not valid JSON", broken.statements.reason)
    assert isinstance(parse_document([], "p").statements, Unknown)
