"""``aurora-validate export securityhub FILE``: the one write, into moto's Security Hub over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy, denied
from moto_support import CREDENTIALS, clients, make_cluster, make_network, shared_local_aws

from validator.cli import main
from validator.exporters import securityhub

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
POLICY = REPO / "policy" / "aurora-validate-securityhub-import-policy.json"
ACCOUNT = "123456789012"  # moto's account for any credentials
REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCOUNT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS[1])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    server = shared_local_aws()
    server.reset()
    yield server
    server.reset()


def hub_findings(url: str, region: str) -> list[dict[str, Any]]:
    """What moto's Security Hub holds (the test reads; the export only writes)."""
    import boto3

    hub = boto3.client(
        "securityhub",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
    )
    out: list[dict[str, Any]] = []
    for page in hub.get_paginator("get_findings").paginate():
        out.extend(page["Findings"])
    return out


@pytest.fixture(scope="module")
def reference_files(tmp_path_factory: pytest.TempPathFactory):
    """The reference's ASFF report for an account (each scanned once per module)."""
    made: dict[str, Path] = {}

    def make(account: str = ACCOUNT) -> Path:
        if account not in made:
            path = tmp_path_factory.mktemp("asff") / f"reference-{account}.asff.json"
            with pytest.MonkeyPatch.context() as env:
                env.setenv("AWS_ACCOUNT_ID", account)
                env.setenv("AWS_REGION", REGION)
                assert main([str(REFERENCE), "--show-passed", "--format", "asff", "-o", str(path)]) == 0
            made[account] = path
        return made[account]

    return make


def test_static_findings_are_imported_and_a_second_import_updates_them(
    aws, reference_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = reference_files()
    sent = json.loads(path.read_text(encoding="utf-8"))
    assert main(["export", "securityhub", str(path), "--endpoint-url", aws.url]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"imported {len(sent)} of {len(sent)} finding(s) into Security Hub in {REGION} (account {ACCOUNT}" in out
    stored = hub_findings(aws.url, REGION)
    assert sorted(f["Id"] for f in stored) == sorted(f["Id"] for f in sent)
    by_id = {f["Id"]: f for f in stored}
    for finding in sent:
        assert by_id[finding["Id"]]["Compliance"] == finding["Compliance"]
        assert by_id[finding["Id"]]["Resources"] == finding["Resources"]
    assert main(["export", "securityhub", str(path), "--endpoint-url", aws.url, "-q"]) == 0
    assert len(hub_findings(aws.url, REGION)) == len(sent)  # same ids: updated, not added


def test_live_findings_are_imported_over_more_than_one_call(
    aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    for n in range(8):
        make_cluster(rds, f"kb{n}", net, EnableIAMDatabaseAuthentication=False, instances=())
    path = tmp_path / "live.asff.json"
    argv = ["--live", "--all", "--region", REGION, "--endpoint-url", aws.url, "--show-passed", "-q"]
    main([*argv, "--report", f"asff={path}"])
    sent = json.loads(path.read_text(encoding="utf-8"))
    assert len(sent) > securityhub.BATCH_SIZE  # the import must split them
    with FaultProxy(aws.url) as proxy:
        assert main(["export", "securityhub", str(path), "--endpoint-url", proxy.url]) == 0
        calls = list(proxy.seen)
    batches = -(-len(sent) // securityhub.BATCH_SIZE)
    assert calls == ["sts:GetCallerIdentity"] + ["securityhub:BatchImportFindings"] * batches
    assert f"{batches} call(s)" in capsys.readouterr().out
    stored = hub_findings(aws.url, REGION)
    assert {f["AwsAccountId"] for f in stored} == {ACCOUNT}
    assert {f["Id"] for f in stored} == {f["Id"] for f in sent}


def test_only_the_import_is_ever_sent() -> None:
    """The import's client refuses any other call before it leaves, as the audit's refuses writes."""
    from validator.sources.aws.client import Connection

    importer = securityhub.Importer(Connection(endpoint_url="http://127.0.0.1:9", static_credentials=CREDENTIALS))
    hub = importer.client("securityhub", REGION)
    with pytest.raises(securityhub.NotAnImport, match="securityhub:DisableSecurityHub"):
        hub.disable_security_hub()
    assert importer.sent == []
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    assert granted == securityhub.IMPORT_OPERATIONS - {"sts:GetCallerIdentity"}  # GetCallerIdentity needs no grant


def test_findings_of_another_account_are_not_sent(
    aws, reference_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = reference_files("210987654321")
    with FaultProxy(aws.url) as proxy:
        code = main(["export", "securityhub", str(path), "--endpoint-url", proxy.url])
        calls = list(proxy.seen)
    err = capsys.readouterr().err
    assert code == 2 and calls == ["sts:GetCallerIdentity"]
    assert err.count("\n") == 1 and "account 210987654321 not imported" in err and f"account {ACCOUNT}" in err
    assert hub_findings(aws.url, REGION) == []


def test_an_invalid_finding_stops_the_import_before_anything_is_sent(
    aws, reference_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = json.loads(reference_files().read_text(encoding="utf-8"))
    del findings[1]["AwsAccountId"]
    findings[2]["Severity"] = {"Label": 4}
    broken = tmp_path / "broken.asff.json"
    broken.write_text(json.dumps({"Findings": findings}), encoding="utf-8")
    with FaultProxy(aws.url) as proxy:
        code = main(["export", "securityhub", str(broken), "--endpoint-url", proxy.url])
        calls = list(proxy.seen)
    err = capsys.readouterr().err
    assert code == 2 and calls == []
    lines = err.splitlines()
    assert len(lines) == 3 and "finding 1 (" in lines[0] and "AwsAccountId" in lines[0]
    assert "finding 2 (" in lines[1] and "Severity.Label" in lines[1]
    assert "nothing sent: 2 of" in lines[2] and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        ("not json", "not JSON"),
        ('{"findings": []}', "expected a JSON array"),
        ("[1]", "finding 0 is not an object"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str | bytes | None, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.asff.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["export", "securityhub", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and str(path) in err


def test_a_refused_import_names_the_permission_and_exits_3(
    aws, reference_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = reference_files()
    with FaultProxy(aws.url) as proxy:
        proxy.add(denied("securityhub:BatchImportFindings"))
        code = main(["export", "securityhub", str(path), "--endpoint-url", proxy.url])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1
    assert "securityhub:BatchImportFindings" in err and POLICY.name in err and "Traceback" not in err


def test_dry_run_checks_and_sends_nothing_but_the_identity_call(
    aws, reference_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = reference_files()
    with FaultProxy(aws.url) as proxy:
        assert main(["export", "securityhub", str(path), "--endpoint-url", proxy.url, "--dry-run"]) == 0
        calls = list(proxy.seen)
    assert calls == ["sts:GetCallerIdentity"] and "not sent" in capsys.readouterr().out
    assert hub_findings(aws.url, REGION) == []


def test_checkov_options_stay_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "checkov", str(tmp_path / "out"), "--dry-run"]) == 2
    assert "for export securityhub" in capsys.readouterr().err


def test_an_endpoint_with_nothing_listening_is_an_input_error(
    aws, reference_files, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "securityhub", str(reference_files()), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to the endpoint" in err


def test_findings_security_hub_rejects_are_counted_and_named() -> None:
    """What BatchImportFindings answers for findings it refuses (botocore's Stubber gives that answer)."""
    from botocore.stub import Stubber

    from validator.sources.aws.client import Connection

    importer = securityhub.Importer(Connection(endpoint_url="http://127.0.0.1:9", static_credentials=CREDENTIALS))
    arn = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    findings = [
        {
            "SchemaVersion": "2018-10-08",
            "Id": f"f{n}",
            "ProductArn": arn,
            "GeneratorId": "AV106",
            "AwsAccountId": ACCOUNT,
            "CreatedAt": "2026-01-02T03:04:05.678Z",
            "UpdatedAt": "2026-01-02T03:04:05.678Z",
            "Title": "t",
            "Description": "d",
            "Resources": [{"Type": "Other", "Id": f"r{n}"}],
        }
        for n in range(150)
    ]
    with Stubber(importer.client("securityhub", REGION)) as stub:
        stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []})
        stub.add_response(
            "batch_import_findings",
            {
                "FailedCount": 1,
                "SuccessCount": 49,
                "FailedFindings": [{"Id": "f120", "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}],
            },
        )
        done = importer.send(ACCOUNT, REGION, findings)
    assert (done.sent, done.imported, done.calls) == (150, 149, 2)
    assert [(r.finding_id, r.code, r.message) for r in done.rejected] == [("f120", "InvalidInput", "bad")]


def test_rejected_findings_are_one_line_each_and_exit_3(
    aws, reference_files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def send(self, account: str, region: str, findings: list) -> securityhub.Imported:
        done = securityhub.Imported(account, region, sent=len(findings), imported=len(findings) - 1, calls=1)
        done.rejected.append(securityhub.Rejected(findings[0]["Id"], "InvalidInput", "as Security Hub answers"))
        return done

    monkeypatch.setattr(securityhub.Importer, "send", send)
    assert main(["export", "securityhub", str(reference_files()), "--endpoint-url", aws.url]) == 3
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "rejected in eu-west-1: InvalidInput: as Security Hub answers" in err
    count = len(json.loads(reference_files().read_text(encoding="utf-8")))
    assert f"imported {count - 1} of {count} finding(s)" in out
