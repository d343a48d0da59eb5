"""Live audits of many accounts, over HTTP on a moto server with three accounts in one organization.

moto keys its state by the account of the credentials: the management account's own keys are
account 123456789012, and the keys sts:AssumeRole returns belong to the account of the role
assumed. Each member account is set up through a role assumed there, so each holds only its own
clusters. The fault proxy learns from the AssumeRole answers it relays which account each access
key belongs to, so it can refuse a call in one account and prove what every account was sent.
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from fault_proxy import FaultProxy, denied, error
from moto_support import ACCOUNT, CREDENTIALS, make_cluster, make_network, shared_local_aws

from validator import cli, facts
from validator.commands.live import accounts_from_args, collect
from validator.errors import UsageError
from validator.sources.aws import client as live_aws
from validator.sources.aws.accounts import AccountRequest, audit_accounts, discover
from validator.sources.aws.audit import LiveRequest
from validator.sources.aws.client import Clients, Connection

REGIONS = ("eu-west-1", "us-east-1")
ROLE = "aurora-validate-audit"
EXTERNAL_ID = "av-external-7f3c"
POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"


def _client(service: str, url: str, region: str, creds: dict[str, str] | None = None) -> Any:
    keys = creds or {"aws_access_key_id": CREDENTIALS[0], "aws_secret_access_key": CREDENTIALS[1]}
    return boto3.client(service, endpoint_url=url, region_name=region, **keys)


def _as(url: str, account: str) -> dict[str, str]:
    """Credentials for writing into ``account`` (the test sets up; the audit only reads)."""
    if account == ACCOUNT:
        return {"aws_access_key_id": CREDENTIALS[0], "aws_secret_access_key": CREDENTIALS[1]}
    sts = _client("sts", url, "us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


@pytest.fixture(scope="module")
def org():
    """Management account A and members B and C (active), D (closed); clusters in A, B and C."""
    server = shared_local_aws()
    server.reset()
    orgs = _client("organizations", server.url, "us-east-1")
    orgs.create_organization(FeatureSet="ALL")
    members = []
    for name in ("b", "c", "d"):
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members.append(status["AccountId"])
    b, c, d = members
    orgs.close_account(AccountId=d)
    for account in (ACCOUNT, b, c):
        creds = _as(server.url, account)
        for region in REGIONS:
            rds, ec2 = _client("rds", server.url, region, creds), _client("ec2", server.url, region, creds)
            # B's database admits 5432 from anywhere (AV301 there only); the others from the VPC.
            net = make_network(rds, ec2, region, open_cidr="0.0.0.0/0" if account == b else "10.0.0.0/16")
            make_cluster(rds, f"kb-{account[-4:]}", net)
    yield {"url": server.url, "a": ACCOUNT, "b": b, "c": c, "d": d}
    # Forgetting five accounts' backends takes moto longer than one's: give it the time here, so
    # the next module's reset is quick.
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/moto-api/reset", method="POST"), timeout=120)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS[1])
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def _argv(url: str, *extra: str, fmt: str = "json") -> list[str]:
    regions = [x for r in REGIONS for x in ("--region", r)]
    return ["--live", "--all", *regions, "--endpoint-url", url, "--organization", "--role-name", ROLE,
            "--external-id", EXTERNAL_ID, "--format", fmt, "--show-passed", *extra]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def test_the_organization_is_discovered_page_by_page_active_accounts_only(org, env, monkeypatch):
    monkeypatch.setattr(facts, "LIST_ACCOUNTS_MAX_RESULTS", 1)  # four accounts: four pages
    with FaultProxy(org["url"]) as proxy:
        found = discover(Clients(Connection(endpoint_url=proxy.url)), "us-east-1")
    assert sorted(found) == sorted([org["a"], org["b"], org["c"]])  # the closed account is left out
    assert proxy.seen == ["organizations:ListAccounts"] * 4


def test_an_organization_that_cannot_be_listed_is_one_line_and_exit_3(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        proxy.add(denied("organizations:ListAccounts"))
        code, doc, err = _run(_argv(proxy.url), capsys)
    assert code == 3 and not doc
    assert err.count("\n") == 1 and "organizations:ListAccounts" in err and "Traceback" not in err
    assert set(proxy.seen) == {"organizations:ListAccounts"}  # no account was entered without the list


def test_every_account_is_audited_through_its_own_role(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        code, doc, err = _run(_argv(proxy.url, "--role-session-name", "audit-run", "--role-duration", "900"), capsys)
    assert code == 0, err  # B's open 5432 is a warning; nothing was refused
    accounts = [org["a"], org["b"], org["c"]]
    assert sorted(doc["accounts"]) == sorted(accounts) and not doc["denied"] and not doc["failed_calls"]
    # One AssumeRole per account, signed by the caller, for the role of that account, with the options given.
    assumed = [(acct, op) for acct, _region, op in proxy.calls if op == "sts:AssumeRole"]
    assert assumed == [(ACCOUNT, "sts:AssumeRole")] * 3
    # Each account's clusters, and only those, are reported in it: moto's state is per account.
    clusters = {(f["account"], f["resource"]) for f in doc["findings"] if f["rule_id"] == "AV503"}
    expected = {
        (acct, f"arn:aws:rds:{region}:{acct}:cluster:kb-{acct[-4:]}") for acct in accounts for region in REGIONS
    }
    assert clusters == expected
    assert all(f["account"] in f["root"] for f in doc["findings"])
    open_world = {f["account"] for f in doc["findings"] if f["rule_id"] == "AV301" and f["status"] == "fail"}
    assert open_world == {org["b"]}
    assert cli.main(_argv(org["url"], "--compact", fmt="text")) == 0
    assert "in 3 AWS accounts" in capsys.readouterr().out.splitlines()[-1]


def test_the_assume_role_request_carries_the_role_external_id_session_and_duration(org, env):
    spec = AccountRequest(ids=[org["b"]], role_name=ROLE, external_id=EXTERNAL_ID, session_name="audit-run",
                          duration=900)
    with FaultProxy(org["url"]) as proxy:
        result = audit_accounts(
            LiveRequest(all=True, regions=["eu-west-1"], connection=Connection(endpoint_url=proxy.url)), spec
        )
    bodies = [body for op, body in proxy.bodies if op == "sts:AssumeRole"]
    assert [d.account for d in result.deployments] == [org["b"]]
    (body,) = bodies
    assert f"RoleArn=arn%3Aaws%3Aiam%3A%3A{org['b']}%3Arole%2F{ROLE}" in body
    assert f"ExternalId={EXTERNAL_ID}" in body and "RoleSessionName=audit-run" in body
    assert "DurationSeconds=900" in body


def test_an_account_whose_role_cannot_be_assumed_is_a_finding_of_that_account(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        proxy.add(denied("sts:AssumeRole", body=org["c"]))
        code, doc, err = _run(_argv(proxy.url), capsys)
    assert code == 3, err  # refused: exit 3, and the other accounts are still reported
    assert doc["denied"] == ["sts:AssumeRole"]
    (unassumed,) = [f for f in doc["findings"] if f["root"] == org["c"]]
    assert unassumed["rule_id"] == "AV503" and unassumed["status"] == "fail" and unassumed["account"] == org["c"]
    assert f"sts:AssumeRole was refused (AccessDenied) in account {org['c']}" in unassumed["message"]
    assert f"arn:aws:iam::{org['c']}:role/{ROLE} was not assumed" in unassumed["message"]
    read = {f["account"] for f in doc["findings"] if f["resource"].startswith("arn:aws:rds:")}
    assert read == {org["a"], org["b"]}
    assert sorted(doc["accounts"]) == sorted([org["a"], org["b"], org["c"]])
    assert not any(acct == org["c"] for acct, _r, _op in proxy.calls)  # nothing was sent as C


def test_a_call_refused_in_one_account_is_reported_there_only(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        proxy.add(denied("rds:DescribeDBInstances", account=org["b"]))
        code, doc, err = _run(_argv(proxy.url), capsys)
    assert code == 3, err
    assert doc["denied"] == ["rds:DescribeDBInstances"]
    av503 = {(f["account"], f["status"]) for f in doc["findings"] if f["rule_id"] == "AV503"}
    assert av503 == {(org["a"], "pass"), (org["b"], "fail"), (org["c"], "pass")}
    refused = [f for f in doc["findings"] if f["rule_id"] == "AV503" and f["status"] == "fail"]
    assert len(refused) == 2 and all("rds:DescribeDBInstances was refused" in f["message"] for f in refused)
    # B's instance classes are unknown, so the rule that reads them is unresolved there, and only there.
    unresolved = {f["account"] for f in doc["findings"] if f["status"] == "unresolved"}
    assert unresolved == {org["b"]}


def test_a_region_not_enabled_in_one_account_leaves_only_that_region_unread(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        proxy.add(error(403, "InvalidClientTokenId", "The security token included in the request is invalid",
                        operation="rds:DescribeDBClusters", region="us-east-1", account=org["c"]))
        code, doc, err = _run(_argv(proxy.url), capsys)
    assert code == 3, err
    (unread,) = [f for f in doc["findings"] if f["root"] == f"{org['c']}/us-east-1"]
    assert unread["rule_id"] == "AV503" and unread["status"] == "fail" and unread["account"] == org["c"]
    assert "InvalidClientTokenId" in unread["message"] and "not read" in unread["message"]
    clusters = {f["resource"] for f in doc["findings"] if f["rule_id"] == "AV503" and f["status"] == "pass"}
    assert f"arn:aws:rds:eu-west-1:{org['c']}:cluster:kb-{org['c'][-4:]}" in clusters
    assert len(clusters) == 5  # 3 accounts x 2 regions, but one


def test_every_request_to_every_account_is_read_only_and_declared(org, env, capsys):
    with FaultProxy(org["url"]) as proxy:
        code, _doc, err = _run(_argv(proxy.url), capsys)
    assert code == 0, err
    by_account: dict[str, set[str]] = {}
    for account, _region, op in proxy.calls:
        by_account.setdefault(account, set()).add(op)
    assert set(by_account) == {org["a"], org["b"], org["c"]}  # each account was read with its own keys
    for account, ops in by_account.items():
        assert ops <= live_aws.OPERATIONS, (account, sorted(ops - live_aws.OPERATIONS))
        names = {op.split(":", 1)[1] for op in ops - live_aws.ASSUME_OPERATIONS}
        assert all(n.startswith(live_aws.READ_ONLY_PREFIXES) for n in names), (account, sorted(ops))
        assert {"rds:DescribeDBClusters", "rds:DescribeDBInstances", "ec2:DescribeSecurityGroups"} <= ops
    # The account calls are the caller's own; a member role is only ever asked for reads.
    caller = {op for a, _r, op in proxy.calls if a == ACCOUNT and op in live_aws.ACCOUNT_OPERATIONS}
    assert caller == set(live_aws.ACCOUNT_OPERATIONS)
    for account in (org["b"], org["c"]):
        assert by_account[account] <= live_aws.MEMBER_OPERATIONS
    assert not any("GetSecretValue" in op for _a, _r, op in proxy.calls)


def test_concurrency_changes_nothing_but_the_time(org, env, capsys):
    _, one, _ = _run(_argv(org["url"], "--jobs", "1"), capsys)
    _, many, _ = _run(_argv(org["url"], "--jobs", "6"), capsys)
    assert one == many and one["findings"]


def test_the_policies_split_the_auditor_and_the_member_role():
    def actions(name: str) -> set[str]:
        doc = json.loads((POLICY_DIR / name).read_text(encoding="utf-8"))
        listed = [st["Action"] for st in doc["Statement"]]
        return {a for action in listed for a in ([action] if isinstance(action, str) else action)}

    assert actions("aurora-validate-member-role-policy.json") == set(live_aws.MEMBER_OPERATIONS)
    assert actions("aurora-validate-readonly-policy.json") == set(live_aws.OPERATIONS)
    trust = json.loads((POLICY_DIR / "aurora-validate-member-role-trust-policy.json").read_text(encoding="utf-8"))
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRole" and statement["Principal"]["AWS"].endswith(":root")
    assert "sts:ExternalId" in statement["Condition"]["StringEquals"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--role-name", ROLE], "need --accounts ID,... or --organization"),
        (["--accounts", "12345"], "'12345' is not an AWS account id"),
        (["--accounts", "111111111111"], "need one role to assume"),
        (["--organization", "--role-arn", "arn:aws:iam::111111111111:role/x"], "names no account"),
        (["--organization", "--role-name", ROLE, "--role-duration", "60"], "between 900 and 43200"),
        (["--organization", "--role-name", ROLE, "--role-session-name", "a b"], "--role-session-name 'a b'"),
        (["--organization", "--role-name", ROLE, "--external-id", "x"], "--external-id"),
    ],
)
def test_account_options_are_checked_before_any_call(argv, message):
    args = cli.build_parser().parse_args(["--live", "--all", *argv])
    with pytest.raises(UsageError, match=re.escape(message)):
        accounts_from_args(args)


def test_a_bad_account_option_is_one_line_and_exit_2(capsys):
    argv = ["--live", "--all", "--region", "eu-west-1", "--accounts", "1234,111111111111", "--role-name", ROLE]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "'1234' is not an AWS account id (12 digits)" in err and "Traceback" not in err


def test_collect_names_the_accounts_of_a_single_account_audit(org, env):
    args = argparse.Namespace(live=True, cluster=[], all=True, region=["eu-west-1"], aws_profile=None,
                              endpoint_url=org["url"], localstack=False, rules_profile="default")
    report = collect(args)
    assert report.accounts == [ACCOUNT]
    assert {f.account for f in report.findings} == {ACCOUNT}


def test_the_role_arn_of_each_account():
    by_name = AccountRequest(ids=["111111111111"], role_name="security/aurora-validate-audit")
    assert by_name.role_for("222222222222") == "arn:aws:iam::222222222222:role/security/aurora-validate-audit"
    china = AccountRequest(ids=["111111111111"], role_name=ROLE, partition="aws-cn")
    assert china.role_for("222222222222") == f"arn:aws-cn:iam::222222222222:role/{ROLE}"
    template = AccountRequest(organization=True, role_arn="arn:aws-us-gov:iam::{account}:role/audit")
    assert template.role_for("333333333333") == "arn:aws-us-gov:iam::333333333333:role/audit"
    assert EXTERNAL_ID not in repr(AccountRequest(organization=True, role_name=ROLE, external_id=EXTERNAL_ID))
