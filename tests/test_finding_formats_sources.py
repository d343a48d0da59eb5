"""ASFF and OCSF from a plan (real terraform) and from a live audit (moto over HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from finding_formats import asff_problems, ocsf_problems
from moto_support import clients, make_cluster, make_network, shared_local_aws

from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


# A terraform plan (`terraform show -json`, terraform 1.11, hashicorp/aws 5.100.0) of the
# configuration beside it: planning it offline takes a minute, so the plan is kept.
PLANNED = REPO / "tests" / "fixtures" / "plan_findings"


@pytest.fixture
def planned() -> tuple[Path, Path]:
    return PLANNED / "plan.json", PLANNED


def test_a_plan_scan_names_terraform_addresses_with_file_and_line(
    planned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, work = planned
    monkeypatch.setenv("AWS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    out_asff, out_ocsf = tmp_path / "plan.asff.json", tmp_path / "plan.ocsf.json"
    code = main(["--plan", str(plan), str(work), "--report", f"asff={out_asff}", "--report", f"ocsf={out_ocsf}", "-q"])
    assert code == 1  # AV106 fails at error
    findings = json.loads(out_asff.read_text(encoding="utf-8"))
    events = json.loads(out_ocsf.read_text(encoding="utf-8"))
    assert findings and asff_problems(findings) == []
    assert events and ocsf_problems(events) == []
    (sg,) = [f for f in findings if f["GeneratorId"] == "AV301"]
    other = sg["Resources"][0]["Details"]["Other"]
    assert other["TerraformAddress"] == "aws_security_group.db" and other["TerraformType"] == "aws_security_group"
    lines = (work / "main.tf").read_text(encoding="utf-8").splitlines()
    assert Path(other["File"]).resolve() == work / "main.tf"
    assert lines[int(other["Line"]) - 1].strip() == "ingress {"  # the open ingress block
    assert {f["Region"] for f in findings} == {"eu-west-1"}  # the provider's region
    assert sg["ProductFields"]["aurora-validate/Source"] == "plan"
    (event,) = [e for e in events if e["metadata"]["event_code"] == "AV301"]
    assert event["resources"][0]["data"]["terraform_address"] == other["TerraformAddress"]
    assert event["cloud"]["account"]["uid"] == ACCOUNT
    assert event["finding_info"]["uid"] == sg["Id"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCOUNT_ID", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    server = shared_local_aws()
    server.reset()
    yield server
    server.reset()


def test_a_live_audit_names_the_account_and_arn_of_each_cluster(aws, tmp_path: Path) -> None:
    rds, ec2 = clients(aws.url, REGION)
    net = make_network(rds, ec2, REGION)
    cluster = make_cluster(rds, "kb", net, EnableIAMDatabaseAuthentication=False)
    out_asff, out_ocsf = tmp_path / "live.asff.json", tmp_path / "live.ocsf.json"
    argv = ["--live", "--cluster", "kb", "--region", REGION, "--endpoint-url", aws.url, "--show-passed", "-q"]
    code = main([*argv, "--report", f"asff={out_asff}", "--report", f"ocsf={out_ocsf}"])
    assert code == 1  # AV106 fails at error
    findings = json.loads(out_asff.read_text(encoding="utf-8"))
    events = json.loads(out_ocsf.read_text(encoding="utf-8"))
    assert asff_problems(findings) == [] and ocsf_problems(events) == []
    assert {f["AwsAccountId"] for f in findings} == {ACCOUNT}  # from the ARN, nothing set in the environment
    assert {f["Region"] for f in findings} == {REGION}
    (iam,) = [f for f in findings if f["GeneratorId"] == "AV106"]
    assert iam["Compliance"]["Status"] == "FAILED"
    assert iam["Resources"][0] == {
        "Type": "AwsRdsDbCluster",
        "Id": cluster["DBClusterArn"],
        "Partition": "aws",
        "Region": REGION,
    }
    assert {e["cloud"]["account"]["uid"] for e in events} == {ACCOUNT}
    groups = [f for f in findings if f["Resources"][0]["Type"] == "AwsEc2SecurityGroup"]
    assert all(f["Resources"][0]["Id"].startswith(f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/") for f in groups)
