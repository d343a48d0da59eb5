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


MAIN_TF = """\
provider "aws" {
  region = "eu-west-1"
}

resource "aws_security_group" "db" {
  name = "db"
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_rds_cluster" "db" {
  cluster_identifier                  = "kb-store"
  engine                              = "aurora-postgresql"
  engine_version                      = "16.6"
  storage_encrypted                   = true
  iam_database_authentication_enabled = false
  enable_http_endpoint                = true
  manage_master_user_password         = true
  master_username                     = "postgres"
  vpc_security_group_ids              = [aws_security_group.db.id]
  serverlessv2_scaling_configuration {
    min_capacity = 0
    max_capacity = 4
  }
}
"""
INGRESS = {
    "from_port": 5432,
    "to_port": 5432,
    "protocol": "tcp",
    "cidr_blocks": ["0.0.0.0/0"],
    "ipv6_cidr_blocks": [],
    "prefix_list_ids": [],
    "security_groups": [],
    "self": False,
    "description": "",
}
CLUSTER = {
    "cluster_identifier": "kb-store",
    "engine": "aurora-postgresql",
    "engine_mode": "provisioned",
    "engine_version": "16.6",
    "storage_encrypted": True,
    "iam_database_authentication_enabled": False,
    "enable_http_endpoint": True,
    "manage_master_user_password": True,
    "master_username": "postgres",
    "deletion_protection": True,
    "skip_final_snapshot": True,
    "port": 5432,
    "serverlessv2_scaling_configuration": [{"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 600}],
}


def _resource(kind: str, values: dict) -> dict:
    return {"address": f"{kind}.db", "mode": "managed", "type": kind, "name": "db", "values": values}


def plan_document() -> dict:
    """A plan as ``terraform show -json`` writes it for MAIN_TF (the group's id known after apply)."""
    group = _resource("aws_security_group", {"name": "db", "ingress": [INGRESS]})
    cluster = _resource("aws_rds_cluster", CLUSTER)
    changes = [
        {
            **{k: r[k] for k in ("address", "mode", "type", "name")},
            "change": {
                "actions": ["create"],
                "before": None,
                "after": r["values"],
                "after_unknown": {"id": True, "arn": True, "vpc_security_group_ids": True},
            },
        }
        for r in (group, cluster)
    ]
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": [group, cluster]}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}},
            "root_module": {
                "resources": [
                    {
                        "address": "aws_rds_cluster.db",
                        "mode": "managed",
                        "type": "aws_rds_cluster",
                        "name": "db",
                        "expressions": {"vpc_security_group_ids": {"references": ["aws_security_group.db.id"]}},
                    }
                ]
            },
        },
    }


@pytest.fixture
def planned(tmp_path: Path) -> tuple[Path, Path]:
    work = tmp_path / "infra"
    work.mkdir()
    (work / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_document()), encoding="utf-8")
    return plan, work


def test_a_plan_scan_names_terraform_addresses_with_file_and_line(
    planned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, work = planned
    monkeypatch.setenv("AWS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    out_asff, out_ocsf = tmp_path / "plan.asff.json", tmp_path / "plan.ocsf.json"
    code = main(["--plan", str(plan), str(work), "--report", f"asff={out_asff}", "--report", f"ocsf={out_ocsf}", "-q"])
    assert code == 0
    findings = json.loads(out_asff.read_text(encoding="utf-8"))
    events = json.loads(out_ocsf.read_text(encoding="utf-8"))
    assert findings and asff_problems(findings) == []
    assert events and ocsf_problems(events) == []
    (sg,) = [f for f in findings if f["GeneratorId"] == "AV301"]
    other = sg["Resources"][0]["Details"]["Other"]
    assert other["TerraformAddress"] == "module.network.aws_security_group.aurora_sg"
    assert other["File"].endswith("modules/network/network.tf") and int(other["Line"]) > 0
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
