"""ASFF for Security Hub: every finding passes botocore's validator for BatchImportFindings."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from finding_formats import asff_problems

from validator.cli import main
from validator.errors import UsageError
from validator.findings import Finding, Report
from validator.model import Deployment, Location
from validator.reporters import FORMATS, asff
from validator.rules import Result, Severity, Status, get_rule

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ACCOUNT = "123456789012"
ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:kb-store"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
NO_ENV: dict[str, str] = {}


def _finding(rule_id: str, status: Status, message: str, resource: str, location: Location, source: str) -> Finding:
    rule = get_rule(rule_id)
    assert rule is not None
    return Finding(rule, rule.severity_for("default"), Result(status, message, resource, location), source)


def live_finding(status: Status = Status.FAIL, rule_id: str = "AV106", message: str = "IAM auth is off") -> Finding:
    return _finding(rule_id, status, message, ARN, Location(api_call="rds:DescribeDBClusters", arn=ARN), ARN)


def static_finding(
    status: Status = Status.FAIL, rule_id: str = "AV301", message: str = "admits 5432 from 0.0.0.0/0", line: int = 7
) -> Finding:
    return _finding(
        rule_id, status, message, "module.net.aws_security_group.db", Location(file="net/main.tf", line=line), "infra"
    )


def report_of(*findings: Finding) -> Report:
    return Report(findings=list(findings), roots=sorted({f.root for f in findings}))


def test_asff_and_ocsf_are_report_formats() -> None:
    assert {"asff", "ocsf"} <= set(FORMATS)


def test_a_live_finding_names_the_account_region_and_resource_of_its_arn() -> None:
    (doc,) = asff.findings(report_of(live_finding()), now=NOW, environ=NO_ENV)
    assert asff_problems([doc]) == []
    assert doc["AwsAccountId"] == ACCOUNT and doc["Region"] == "eu-west-1"
    assert doc["ProductArn"] == f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert doc["GeneratorId"] == "AV106" and doc["ProductName"] == "aurora-validate"
    assert doc["Resources"] == [{"Type": "AwsRdsDbCluster", "Id": ARN, "Partition": "aws", "Region": "eu-west-1"}]
    assert doc["Compliance"] == {"Status": "FAILED"}
    assert doc["Severity"] == {"Label": "MEDIUM", "Original": "error"}
    rule = get_rule("AV106")
    assert rule is not None
    assert doc["Remediation"]["Recommendation"]["Url"] == rule.doc_url
    assert rule.fix.splitlines()[0] in doc["Remediation"]["Recommendation"]["Text"]
    assert doc["CreatedAt"] == doc["UpdatedAt"] == "2026-01-02T03:04:05.678Z"
    assert doc["ProductFields"]["aurora-validate/ApiCall"] == "rds:DescribeDBClusters"


def test_a_live_finding_on_a_named_resource_uses_the_arn_it_was_read_from() -> None:
    named = _finding("AV106", Status.FAIL, "m", "kb-store", Location(api_call="rds:DescribeDBClusters", arn=ARN), ARN)
    group = _finding("AV301", Status.FAIL, "m", "sg-0abc", Location(api_call="ec2:DescribeSecurityGroups"), ARN)
    docs = asff.findings(report_of(named, group), environ=NO_ENV)
    assert asff_problems(docs) == []
    assert sorted((d["Resources"][0]["Type"], d["Resources"][0]["Id"]) for d in docs) == [
        ("AwsEc2SecurityGroup", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-0abc"),
        ("AwsRdsDbCluster", ARN),
    ]


def test_compliance_status_per_result() -> None:
    report = report_of(
        live_finding(Status.PASS, message="IAM auth is on"),
        live_finding(Status.FAIL),
        live_finding(Status.UNRESOLVED, message="IAM auth cannot be determined: not reported"),
    )
    docs = asff.findings(report, show_passed=True, now=NOW, environ=NO_ENV)
    assert asff_problems(docs) == []
    by_status = {d["ProductFields"]["aurora-validate/Status"]: d for d in docs}
    assert {s: d["Compliance"]["Status"] for s, d in by_status.items()} == {
        "pass": "PASSED",
        "fail": "FAILED",
        "unresolved": "NOT_AVAILABLE",
    }
    assert by_status["pass"]["Severity"]["Label"] == "INFORMATIONAL"
    assert by_status["unresolved"]["Description"].endswith("not reported")
    assert len({d["Id"] for d in docs}) == 3  # same rule and resource, told apart by their messages


def test_severity_labels_rank_security_above_correctness_above_notes() -> None:
    def label(rule_id: str, severity: Severity) -> str:
        rule = get_rule(rule_id)
        assert rule is not None
        f = Finding(rule, severity, Result(Status.FAIL, "m", ARN, Location(arn=ARN)), ARN)
        return str(asff.findings(report_of(f), now=NOW, environ=NO_ENV)[0]["Severity"]["Label"])

    assert label("AV301", Severity.ERROR) == "HIGH"
    assert label("AV106", Severity.ERROR) == "MEDIUM"
    assert label("AV402", Severity.ERROR) == "LOW"


def test_static_findings_take_the_account_and_region_given() -> None:
    (doc,) = asff.findings(
        report_of(static_finding()), now=NOW, environ={"AWS_ACCOUNT_ID": "210987654321", "AWS_REGION": "us-east-2"}
    )
    assert asff_problems([doc]) == []
    assert doc["AwsAccountId"] == "210987654321" and doc["Region"] == "us-east-2"
    (resource,) = doc["Resources"]
    assert resource["Type"] == "AwsEc2SecurityGroup" and resource["Id"] == "module.net.aws_security_group.db"
    assert resource["Details"]["Other"] == {
        "TerraformAddress": "module.net.aws_security_group.db",
        "TerraformRoot": "infra",
        "TerraformType": "aws_security_group",
        "File": "infra/net/main.tf",
        "Line": "7",
    }
    explicit = asff.findings(report_of(static_finding()), account="111122223333", region="ap-south-1", environ=NO_ENV)
    assert (explicit[0]["AwsAccountId"], explicit[0]["Region"]) == ("111122223333", "ap-south-1")


def test_the_account_of_an_arn_or_of_the_finding_wins_over_the_one_given() -> None:
    named = dataclasses.replace(static_finding(), account="444455556666")  # as an audit of several accounts
    docs = asff.findings(report_of(live_finding(), named), account="111122223333", region="us-east-1", environ=NO_ENV)
    accounts = {d["GeneratorId"]: d["AwsAccountId"] for d in docs}
    assert accounts == {"AV106": ACCOUNT, "AV301": "444455556666"}
    assert asff_problems(docs) == []


def test_a_finding_without_an_account_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="AWS_ACCOUNT_ID"):
        asff.findings(report_of(static_finding()), environ={"AWS_REGION": "us-east-1"})
    with pytest.raises(UsageError, match="AWS_REGION"):
        asff.findings(report_of(static_finding()), environ={"AWS_ACCOUNT_ID": ACCOUNT})
    with pytest.raises(UsageError, match="12 digits"):
        asff.findings(report_of(static_finding()), environ={"AWS_ACCOUNT_ID": "12345", "AWS_REGION": "us-east-1"})
    assert asff.findings(Report(), environ=NO_ENV) == []  # nothing to place, nothing to refuse


def test_the_region_of_the_terraform_provider_is_the_last_resort() -> None:
    from validator.model import Provider, Unknown, Value

    f = static_finding()
    report = report_of(f)
    report.deployments = [
        Deployment(kind="hcl", root="infra", provider=Provider(Value("ap-northeast-1"), Value(Unknown("n/a"))))
    ]
    (doc,) = asff.findings(report, environ={"AWS_ACCOUNT_ID": ACCOUNT})
    assert doc["Region"] == "ap-northeast-1"


def test_a_refused_call_in_a_region_takes_the_account_the_audit_read() -> None:
    from validator.model import Provider, Unknown, Value

    refused = _finding(
        "AV503",
        Status.FAIL,
        "AWS refused ec2:DescribeSecurityGroups",
        "eu-west-1",
        Location(api_call="ec2:DescribeSecurityGroups"),
        "eu-west-1",
    )
    region_dep = Deployment(kind="live", root="eu-west-1", provider=Provider(Value("eu-west-1"), Value(Unknown("n/a"))))
    report = report_of(live_finding(), refused)
    report.deployments = [region_dep]
    docs = asff.findings(report, environ=NO_ENV)
    assert sorted((d["GeneratorId"], d["AwsAccountId"], d["Region"]) for d in docs) == [
        ("AV106", ACCOUNT, "eu-west-1"),
        ("AV503", ACCOUNT, "eu-west-1"),
    ]
    assert asff_problems(docs) == []
    alone = report_of(refused)
    alone.deployments = [region_dep]
    with pytest.raises(UsageError, match="AWS_ACCOUNT_ID"):
        asff.findings(alone, environ=NO_ENV)  # no ARN anywhere: the account is not guessed


def test_a_deployment_that_names_its_account_gives_it_to_findings_without_an_arn() -> None:
    @dataclasses.dataclass
    class AccountDeployment(Deployment):  # as an audit of several accounts may name each one's account
        account: str | None = None

    refused = _finding("AV503", Status.FAIL, "refused", "us-east-2", Location(api_call="rds:X"), "us-east-2")
    report = report_of(refused)
    report.deployments = [AccountDeployment(kind="live", root="us-east-2", account="777788889999")]
    (doc,) = asff.findings(report, region="us-east-2", environ=NO_ENV)
    assert doc["AwsAccountId"] == "777788889999" and asff_problems([doc]) == []


def test_the_validator_rejects_what_security_hub_rejects() -> None:
    (good,) = asff.findings(report_of(live_finding()), now=NOW, environ=NO_ENV)
    broken = []
    for mutate in (
        lambda d: d.pop("AwsAccountId"),
        lambda d: d.update(Resources=[]),
        lambda d: d["Resources"][0].pop("Type"),
        lambda d: d.update(Severity={"Label": 3}),
        lambda d: d.update(Severity={"Label": "SEVERE"}),
        lambda d: d.update(Compliance={"Status": "UNRESOLVED"}),
        lambda d: d.update(Title="x" * 257),
    ):
        doc = copy.deepcopy(good)
        mutate(doc)
        broken.append(asff_problems([doc]))
    assert all(broken), broken


def test_ids_are_stable_and_long_texts_are_cut_to_the_api_limits() -> None:
    first = asff.findings(report_of(static_finding(), live_finding()), account=ACCOUNT, region="us-east-1")
    moved = asff.findings(report_of(static_finding(line=70), live_finding()), account=ACCOUNT, region="us-east-1")
    assert [d["Id"] for d in first] == [d["Id"] for d in moved]  # a moved line keeps the finding
    long = asff.findings(report_of(live_finding(message="x" * 5000)), environ=NO_ENV)[0]
    assert len(long["Description"]) == 1024 and long["Description"].endswith("\u2026")
    assert asff_problems([long]) == []


def test_suppressed_findings_are_included_as_suppressed() -> None:
    f = dataclasses.replace(live_finding(), suppressed_by="inline (main.tf:3): accepted for the demo")
    (doc,) = asff.findings(report_of(f), environ=NO_ENV)
    assert doc["Workflow"] == {"Status": "SUPPRESSED"}
    assert doc["ProductFields"]["aurora-validate/SuppressedBy"].endswith("accepted for the demo")


# --------------------------------------------------------------------------- #
# Through the command line, on the reference Terraform


def asff_of(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main([*argv, "--format", "asff"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def test_the_reference_as_asff(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    code, docs = asff_of(capsys, str(REFERENCE), "--show-passed")
    assert code == 0 and docs and asff_problems(docs) == []
    assert {d["Region"] for d in docs} == {"ap-northeast-1"}  # the reference's provider region
    failed = {d["GeneratorId"] for d in docs if d["Compliance"]["Status"] == "FAILED"}
    assert "AV301" in failed and any(d["Compliance"]["Status"] == "PASSED" for d in docs)
    (sg,) = [d for d in docs if d["GeneratorId"] == "AV301"]
    other = sg["Resources"][0]["Details"]["Other"]
    network = REFERENCE / "modules" / "network" / "network.tf"
    assert Path(other["File"]).resolve() == network
    assert other["TerraformAddress"] == "module.network.aws_security_group.aurora_sg"
    line = network.read_text(encoding="utf-8").splitlines()[int(other["Line"]) - 1]
    assert "ingress" in line


def test_a_static_scan_without_an_account_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)
    sarif = tmp_path / "r.sarif"
    code = main([str(REFERENCE), "--report", f"asff={tmp_path / 'r.asff'}", "--report", f"sarif={sarif}", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "AWS_ACCOUNT_ID" in err and "Traceback" not in err
    assert sarif.exists()  # the other reports are still written


# --------------------------------------------------------------------------- #
# Generated findings: any rule, status, text, resource and place


def _findings_strategy():
    from hypothesis import strategies as st

    from validator.rules import all_rules

    text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=1500)
    account = st.from_regex(r"\A[0-9]{12}\Z")
    region = st.sampled_from(["us-east-1", "eu-west-1", "ap-northeast-1", "cn-north-1", "us-gov-west-1"])
    name = st.from_regex(r"\A[a-z][a-z0-9-]{0,40}\Z")
    arn = st.builds(
        lambda partition, service_kind, r, a, n: f"arn:{partition}:{service_kind[0]}:{r}:{a}:{service_kind[1]}{n}",
        st.sampled_from(["aws", "aws-cn"]),
        st.sampled_from(
            [("rds", "cluster:"), ("rds", "db:"), ("bedrock", "knowledge-base/"), ("ec2", "security-group/")]
        ),
        region,
        account,
        name,
    )
    address = st.builds(
        lambda mod, kind, n, idx: f"{mod}{kind}.{n}{idx}",
        st.sampled_from(["", "module.db.", "module.a.module.b."]),
        st.sampled_from(
            ["aws_rds_cluster", "aws_security_group", "aws_rds_cluster_instance", "aws_bedrockagent_knowledge_base"]
        ),
        st.from_regex(r"\A[a-z_][a-z0-9_]{0,20}\Z"),
        st.sampled_from(["", "[0]", '["a b"]']),
    )

    def build(rule, status, message, live, where, file, line, suppressed):
        if live:
            return Finding(
                rule, rule.severity, Result(status, message, where, Location(api_call="rds:X", arn=where)), where
            )
        loc = Location(file=file, line=line) if file else Location()
        f = Finding(rule, rule.severity, Result(status, message, where, loc), "infra")
        return dataclasses.replace(f, suppressed_by=suppressed) if suppressed else f

    one = st.one_of(
        st.builds(
            build,
            st.sampled_from(all_rules()),
            st.sampled_from(list(Status)),
            text,
            st.just(True),
            arn,
            st.none(),
            st.none(),
            st.none(),
        ),
        st.builds(
            build,
            st.sampled_from(all_rules()),
            st.sampled_from(list(Status)),
            text,
            st.just(False),
            address,
            st.sampled_from([None, "main.tf", "modules/db/ü n.tf"]),
            st.integers(1, 10**6),
            st.one_of(st.none(), text.filter(bool)),
        ),
    )
    return st.lists(one, min_size=1, max_size=12)


def test_generated_findings_are_always_importable_and_valid_ocsf() -> None:
    from finding_formats import ocsf_problems
    from hypothesis import HealthCheck, given, settings

    from validator.reporters import ocsf

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_findings_strategy())
    def check(findings: list[Finding]) -> None:
        report = report_of(*findings)
        docs = asff.findings(report, show_passed=True, account=ACCOUNT, region="us-east-1", environ=NO_ENV)
        assert len(docs) == len(findings)
        assert asff_problems(docs) == []
        events = ocsf.events(report, show_passed=True, account=ACCOUNT, region="us-east-1", environ=NO_ENV)
        assert ocsf_problems(events) == []
        assert [e["finding_info"]["uid"] for e in events] == [d["Id"] for d in docs]
        for doc in docs:
            arn = doc["Resources"][0]["Id"]
            if arn.startswith("arn:"):
                assert doc["AwsAccountId"] == arn.split(":")[4] and doc["Region"] == arn.split(":")[3]

    check()
