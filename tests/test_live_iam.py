"""The knowledge base's service role read live (validator.sources.aws.iam) over HTTP from moto.

Roles are created with boto3 as a team would; the audit reads them through the fault proxy,
which records every request on the wire and refuses chosen operations.
"""

from __future__ import annotations

import json

import pytest
from fault_proxy import FaultProxy, denied, error
from moto_support import ACCOUNT, CREDENTIALS, connection, shared_local_aws, shared_plain_moto

from validator.iam import Decision, Target, evaluate, trusts_service
from validator.model import Deployment, KnowledgeBase, Location, Unknown, Value
from validator.rules import Status, get_rule
from validator.sources.aws import client as live_aws
from validator.sources.aws.iam import attach_role, read_role

CLUSTER = f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:kb"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!cluster-1234-AbCdEf"
MODEL = "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }],
}
DATA_API = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds-data:*"], "Resource": CLUSTER},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET},
    ],
}
INVOKE = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": MODEL}]}


@pytest.fixture(params=["patched", "plain"])
def aws(request):
    """The role on our patched moto and on moto as a team runs it: IAM is the same on both."""
    server = shared_local_aws() if request.param == "patched" else shared_plain_moto()
    server.reset()
    import boto3

    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=CREDENTIALS[0], aws_secret_access_key=CREDENTIALS[1])
    role = iam.create_role(RoleName="kb-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="kb-role", PolicyName="data-api", PolicyDocument=json.dumps(DATA_API))
    arn = iam.create_policy(PolicyName="invoke", PolicyDocument=json.dumps(INVOKE))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="kb-role", PolicyArn=arn)
    yield server, role["Arn"], iam
    server.reset()


def _kb(role_arn: str) -> KnowledgeBase:
    at = Location(api_call="bedrock-agent:GetKnowledgeBase", arn="arn:aws:bedrock:eu-west-1:1:knowledge-base/KB")
    return KnowledgeBase("KB", at, storage_type=Value("RDS", at), resource_arn=Value(CLUSTER, at),
                         credentials_secret_arn=Value(SECRET, at), database_name=Value("postgres", at),
                         table_name=Value("bedrock_integration.bedrock_kb", at), field_mapping={},
                         role_arn=Value(role_arn, at), embedding_model_arn=Value(MODEL, at))


def test_the_role_is_read_with_every_policy_and_only_read_calls(aws):
    server, role_arn, _ = aws
    hooked: list[str] = []
    with FaultProxy(server.url) as proxy:
        clients = live_aws.Clients(connection(proxy.url, [lambda region, op: hooked.append(op)]))
        found = read_role(clients, role_arn)
    assert found.refused == [] and found.role is not None
    role = found.role
    assert trusts_service(role.trust_policy, "bedrock.amazonaws.com").confused_deputy_guarded
    assert {p.origin.api_call for p in role.policies} == {"iam:GetRolePolicy", "iam:GetPolicyVersion"}
    for action, target in (("rds-data:ExecuteStatement", CLUSTER), ("secretsmanager:GetSecretValue", SECRET),
                           ("bedrock:InvokeModel", MODEL)):
        assert evaluate(role.policies, action, Target("x", arn=target)).decision is Decision.ALLOW, action
    assert evaluate(role.policies, "rds-data:ExecuteStatement", Target("x", arn=CLUSTER + "-other")).decision \
        is Decision.IMPLICIT_DENY
    wire = set(proxy.seen)
    assert wire == set(live_aws.ROLE_OPERATIONS), sorted(wire)
    assert set(hooked) <= live_aws.OPERATIONS


def test_av204_passes_live_and_fails_when_a_policy_is_detached(aws):
    server, role_arn, iam = aws
    clients = live_aws.Clients(connection(server.url))
    dep = Deployment("live", "eu-west-1", knowledge_bases=[_kb(role_arn)])
    attach_role(clients, dep.knowledge_bases[0], dep)
    rule = get_rule("AV204")
    results = list(rule.check(dep))
    assert [r.status for r in results] == [Status.PASS, Status.PASS], [r.message for r in results]
    assert results[1].location.api_call in ("iam:GetRolePolicy", "iam:GetPolicyVersion")

    iam.detach_role_policy(RoleName="kb-role", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/invoke")
    dep = Deployment("live", "eu-west-1", knowledge_bases=[_kb(role_arn)])
    attach_role(clients, dep.knowledge_bases[0], dep)
    [_trust, perms] = list(rule.check(dep))
    assert perms.status is Status.FAIL and "bedrock:InvokeModel" in perms.message, perms.message


def test_a_role_that_does_not_exist_fails(aws):
    server, _, _ = aws
    clients = live_aws.Clients(connection(server.url))
    dep = Deployment("live", "eu-west-1", knowledge_bases=[_kb(f"arn:aws:iam::{ACCOUNT}:role/gone")])
    attach_role(clients, dep.knowledge_bases[0], dep)
    [result] = list(get_rule("AV204").check(dep))
    assert result.status is Status.FAIL and "gone does not exist" in result.message


@pytest.mark.parametrize("operation", ["iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:GetPolicyVersion"])
def test_a_refused_call_is_av503_and_leaves_av204_unresolved(aws, operation):
    server, role_arn, _ = aws
    with FaultProxy(server.url, [denied(operation)]) as proxy:
        clients = live_aws.Clients(connection(proxy.url))
        dep = Deployment("live", "eu-west-1", knowledge_bases=[_kb(role_arn)])
        added = attach_role(clients, dep.knowledge_bases[0], dep)
        again = attach_role(clients, dep.knowledge_bases[0], dep)
    assert [r.operation for r in dep.refused_calls] == [operation]
    assert added == dep.refused_calls and again == []  # a refusal is recorded, and returned, once
    assert dep.refused_calls[0].denied
    [_trust, perms] = list(get_rule("AV204").check(dep))
    assert perms.status is Status.UNRESOLVED, perms.message
    assert operation in perms.message


def test_get_role_refused_leaves_the_role_unread(aws):
    server, role_arn, _ = aws
    with FaultProxy(server.url, [denied("iam:GetRole")]) as proxy:
        found = read_role(live_aws.Clients(connection(proxy.url)), role_arn)
    assert found.role is None and not found.missing and "iam:GetRole was refused" in found.reason
    assert proxy.seen == ["iam:GetRole"]


class _RefusingIam:
    """An IAM client that refuses GetPolicy, as an auditor without iam:GetPolicy sees it."""

    def get_policy(self, PolicyArn: str) -> dict:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetPolicy")


def test_an_aws_managed_policy_falls_back_to_the_facts_table_and_the_refusal_is_reported():
    from validator.sources.aws import iam as live_iam
    from validator.sources.aws.client import Refused, call

    refused: list[str] = []

    def attempt(op, func, consequence):
        try:
            return call(op, "us-east-1", func, degrade_denied=True, degrade_errors=True)
        except Refused as exc:
            refused.append(exc.operation)
            return exc

    doc = live_iam._managed(_RefusingIam(), "arn:aws:iam::aws:policy/AmazonRDSDataFullAccess", attempt, "-")
    assert refused == ["iam:GetPolicy"]
    assert "AmazonRDSDataFullAccess.html" in (doc.origin.via or "")
    assert evaluate([doc], "rds-data:BatchExecuteStatement", Target("x", arn=CLUSTER)).decision is Decision.ALLOW
    assert evaluate([doc], "secretsmanager:GetSecretValue", Target("x", arn=SECRET)).decision \
        is Decision.IMPLICIT_DENY  # it covers rds-db-credentials/* secrets only
    unknown = live_iam._managed(_RefusingIam(), f"arn:aws:iam::{ACCOUNT}:policy/mine", attempt, "-")
    assert isinstance(unknown.statements, Unknown) and "iam:GetPolicy was refused" in unknown.statements.reason


def test_throttling_is_retried_and_shared_roles_are_read_once(aws):
    from validator.sources.aws.iam import RoleCache

    server, role_arn, _ = aws
    throttle = error(400, "Throttling", "Rate exceeded", operation="iam:GetRole", times=2)
    with FaultProxy(server.url, [throttle]) as proxy:
        clients = live_aws.Clients(connection(proxy.url))
        cache = RoleCache()
        deployments = [Deployment("live", f"eu-west-1 {i}", knowledge_bases=[_kb(role_arn)]) for i in range(3)]
        for dep in deployments:
            attach_role(clients, dep.knowledge_bases[0], dep, cache)
    assert proxy.injected == ["iam:GetRole 400 Throttling"] * 2
    assert proxy.seen.count("iam:GetRole") == 3  # two throttled attempts, then the answer
    # Three knowledge bases on one role: each call once (GetRole retried), not three times.
    assert len(proxy.seen) == 3 + 5, proxy.seen
    for dep in deployments:
        assert dep.refused_calls == []
        assert [r.status for r in get_rule("AV204").check(dep)] == [Status.PASS, Status.PASS]


def _audit_av204(server, role_arn: str, calls: list[str]) -> list:
    from moto_support import clients, make_cluster, make_knowledge_base, make_network, make_secret

    from validator.engine import evaluate
    from validator.sources.aws.audit import LiveRequest, audit

    rds, ec2 = clients(server.url, "eu-west-1")
    cluster = make_cluster(rds, "kb", make_network(rds, ec2, "eu-west-1"))
    secret = make_secret(server.url, "eu-west-1")
    make_knowledge_base(server.url, "eu-west-1", "docs", cluster["DBClusterArn"], secret, role_arn=role_arn)
    result = audit(LiveRequest(clusters=["kb"], regions=["eu-west-1"],
                               connection=connection(server.url, [lambda region, op: calls.append(op)])))
    return [f for dep in result.deployments for f in evaluate(dep, "bedrock-kb") if f.rule_id == "AV204"]



@pytest.mark.parametrize("with_invoke", [False, True])
def test_a_live_audit_reads_each_knowledge_base_role_and_av204_judges_it(aws, with_invoke):
    server, _, iam = aws
    secret_arn = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:kb-credentials-*"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds-data:*"], "Resource": CLUSTER},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn},
    ]}
    role = iam.create_role(RoleName="live-kb", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="live-kb", PolicyName="data-api", PolicyDocument=json.dumps(policy))
    if with_invoke:
        iam.put_role_policy(RoleName="live-kb", PolicyName="invoke", PolicyDocument=json.dumps(INVOKE))
    calls: list[str] = []
    findings = _audit_av204(server, role["Arn"], calls)
    assert {"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy"} <= set(calls)
    assert all(op.split(":")[1].startswith(("Describe", "List", "Get")) for op in calls)
    statuses = sorted(f.status.value for f in findings)
    if with_invoke:
        assert statuses == ["pass", "pass"], [(f.status, f.result.message) for f in findings]
        return
    # The trust passes; the permissions fail: nothing allows bedrock:InvokeModel on the embedding model.
    assert statuses == ["fail", "pass"], [(f.status, f.result.message) for f in findings]
    [failed] = [f for f in findings if f.status is Status.FAIL]
    assert "bedrock:InvokeModel" in failed.result.message
