"""Drift (AV502): a Terraform configuration against the cluster a local AWS API reports."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from moto_support import clients, make_cluster, make_network, shared_local_aws

from validator.commands.live import collect
from validator.engine import Finding
from validator.rules import Status

REGION = "eu-west-1"

TERRAFORM = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.81.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "engine_version" {
  type    = string
  default = "16.6"
}

resource "aws_rds_cluster" "kb" {
  cluster_identifier                  = "kb"
  engine                              = "aurora-postgresql"
  engine_mode                         = "provisioned"
  engine_version                      = var.engine_version
  master_username                     = "dbadmin"
  manage_master_user_password         = true
  iam_database_authentication_enabled = true
  enable_http_endpoint                = true
  storage_encrypted                   = true
  deletion_protection                 = true
  db_subnet_group_name                = aws_db_subnet_group.db.name
  vpc_security_group_ids              = [aws_security_group.db.id]
  skip_final_snapshot                 = true

  serverlessv2_scaling_configuration {
    min_capacity             = 0
    max_capacity             = 4
    seconds_until_auto_pause = 600
  }
}

resource "aws_rds_cluster_instance" "writer" {
  identifier          = "kb-1"
  cluster_identifier  = aws_rds_cluster.kb.id
  instance_class      = "db.serverless"
  engine              = aws_rds_cluster.kb.engine
  publicly_accessible = false
}

resource "aws_security_group" "db" {
  name   = "db-sg"
  vpc_id = "vpc-0123456789abcdef0"

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "db-subnets"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
}
"""


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = shared_local_aws()
    server.reset()
    rds, ec2 = clients(server.url, REGION)
    net = make_network(rds, ec2, REGION)
    make_cluster(rds, "kb", net)
    yield server, rds, ec2, net
    server.reset()


@pytest.fixture
def terraform(tmp_path: Path) -> Path:
    root = tmp_path / "tf"
    root.mkdir()
    (root / "main.tf").write_text(TERRAFORM, encoding="utf-8")
    return root


def _line(text: str) -> int:
    return next(i for i, line in enumerate(TERRAFORM.splitlines(), 1) if text in line)


def _drift(url: str, root: Path, var: list[str] | None = None) -> list[Finding]:
    args = argparse.Namespace(
        live=True,
        cluster=["kb"],
        all=False,
        region=[REGION],
        aws_profile=None,
        endpoint_url=url,
        localstack=False,
        paths=[str(root)],
        rules_profile="default",
        var_file=[],
        var=var or [],
    )
    report = collect(args)
    assert not report.errors, report.errors
    return [f for f in report.findings if f.rule_id == "AV502"]


def test_no_drift_when_the_cluster_is_the_code(aws, terraform):
    server, *_ = aws
    [result] = _drift(server.url, terraform)
    assert result.status is Status.PASS
    assert "12 compared settings" in result.result.message


def test_changes_made_through_the_api_are_named_with_both_values_and_places(aws, terraform):
    server, rds, ec2, net = aws
    arn = f"arn:aws:rds:{REGION}:123456789012:cluster:kb"
    rds.modify_db_cluster(DBClusterIdentifier="kb", EnableIAMDatabaseAuthentication=False, DeletionProtection=False)
    rds.modify_db_cluster(
        DBClusterIdentifier="kb", ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 16}
    )
    ec2.authorize_security_group_ingress(
        GroupId=net.security_group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
    )
    rds.create_db_instance(
        DBInstanceIdentifier="kb-reader",
        DBClusterIdentifier="kb",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )

    findings = _drift(server.url, terraform)
    failed = {f.result.message.split(" drifted:")[0]: f for f in findings if f.status is Status.FAIL}
    assert sorted(failed) == [
        "deletion_protection",
        "iam_database_authentication_enabled",
        "ingress to port 5432 from the internet",
        "instance_class",
        "max_capacity",
    ]
    iam = failed["iam_database_authentication_enabled"]
    assert iam.result.message == (
        f"iam_database_authentication_enabled drifted: Terraform has true ({terraform}/main.tf:"
        f"{_line('iam_database_authentication_enabled')}), the deployed cluster has false "
        f"(rds:DescribeDBClusters {arn})"
    )
    assert iam.result.location.file == f"{terraform}/main.tf"
    assert iam.result.location.line == _line("iam_database_authentication_enabled")
    assert "Terraform has db.serverless" in failed["instance_class"].result.message
    assert "the deployed cluster has db.r6g.large, db.serverless" in failed["instance_class"].result.message
    assert "Terraform has 4 " in failed["max_capacity"].result.message
    assert "the deployed cluster has 16 " in failed["max_capacity"].result.message
    ingress = failed["ingress to port 5432 from the internet"].result.message
    assert "Terraform has tcp 5432 from 0.0.0.0/0" in ingress
    assert "the deployed cluster has tcp 0-65535 from ::/0, tcp 5432 from 0.0.0.0/0" in ingress
    assert "ec2:DescribeSecurityGroups" in ingress


def test_unknown_terraform_values_are_not_drift(aws, terraform):
    server, *_ = aws
    text = TERRAFORM.replace('  default = "16.6"\n', "")
    (terraform / "main.tf").write_text(text, encoding="utf-8")
    findings = _drift(server.url, terraform)
    unresolved = [f for f in findings if f.status is Status.UNRESOLVED]
    assert [f.result.message.split(" cannot")[0] for f in unresolved] == ["drift in engine_version"]
    assert not [f for f in findings if f.status is Status.FAIL]
    # With the variable given, the comparison is made (and 16 names a prefix of 16.6: no drift).
    findings = _drift(server.url, terraform, var=["engine_version=16"])
    assert [f.status for f in findings] == [Status.PASS]
    findings = _drift(server.url, terraform, var=["engine_version=15.4"])
    assert [f.result.message.split(":")[0] for f in findings if f.status is Status.FAIL] == ["engine_version drifted"]


def test_a_cluster_with_another_identifier_is_not_compared(aws, terraform):
    """The only Terraform cluster is "kb"; the deployed "kb-prod" is another cluster, not drift of it."""
    server, rds, _, net = aws
    make_cluster(rds, "kb-prod", net, DeletionProtection=False)
    args = argparse.Namespace(
        live=True,
        cluster=["kb-prod"],
        all=False,
        region=[REGION],
        aws_profile=None,
        endpoint_url=server.url,
        localstack=False,
        paths=[str(terraform)],
        rules_profile="default",
        var_file=[],
        var=[],
    )
    report = collect(args)
    [result] = [f for f in report.findings if f.rule_id == "AV502"]
    assert result.status is Status.UNRESOLVED
    assert "no Terraform cluster" in result.result.message and "'kb-prod'" in result.result.message


def test_a_terraform_cluster_without_a_known_identifier_is_compared(aws, terraform):
    server, *_ = aws
    text = TERRAFORM.replace('  cluster_identifier                  = "kb"\n', "")
    (terraform / "main.tf").write_text(text, encoding="utf-8")
    findings = _drift(server.url, terraform)
    assert [f.status for f in findings] == [Status.PASS]
