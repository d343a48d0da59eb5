"""Provenance through expressions: a selected value keeps the line that holds it and its literal-ness."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from validator.engine import evaluate
from validator.model import Value
from validator.sources.terraform.hcl import load_root

DECLARATIONS = """
variable "managed" {
  type    = bool
  default = true
}
variable "pw" {
  type      = string
  sensitive = true
}
variable "pws" {
  type = map(string)
}
variable "list" {
  type = list(string)
}
variable "objs" {
  type = list(object({ pw = string, port = optional(number, 5432) }))
}
variable "nothing" {
  type    = string
  default = null
}
resource "random_password" "db" {
  length = 24
}
locals {
  settings = { password = var.pw }
  encoded  = jsonencode({ user = "postgres", password = var.pw })
}
"""

TFVARS = """\
managed = "false"
pw      = "tiger111!"
pws = {
  kb = "tiger111?"
}
list = [
  "first",
  "tiger111#",
]
objs = [
  { pw = "tiger111$" },
]
"""


def password(tmp_path: Path, expr: str, extra: str = "") -> Value:
    (tmp_path / "vars.tf").write_text(DECLARATIONS + extra)
    (tmp_path / "main.tf").write_text(textwrap.dedent(f"""\
        resource "aws_rds_cluster" "c" {{
          engine          = "aurora-postgresql"
          master_password = {expr}
        }}
    """))
    (tmp_path / "terraform.tfvars").write_text(TFVARS)
    loaded = load_root(tmp_path)
    assert loaded.errors == []
    return loaded.deployment.clusters[0].master_password


@pytest.mark.parametrize(
    ("expr", "line"),
    [
        ("var.pw", 2),
        ("var.managed ? null : var.pw", 2),
        ("!var.managed ? var.pw : null", 2),
        ("coalesce(var.nothing, var.pw)", 2),
        ("try(var.objs[0].missing, var.pw)", 2),
        ('lookup(var.pws, "kb", "default")', 4),
        ('var.pws["kb"]', 4),
        ("one([var.pw])", 2),
        ("element(var.list, 1)", 8),
        ("var.list[1]", 8),
        ("merge(local.settings, { user = \"x\" }).password", 2),
        ("[for p in var.list : p if p != \"first\"][0]", 8),
        ("{ for i, p in var.list : p => p }[\"tiger111#\"]", 8),
        ("(var.objs[*].pw)[0]", 11),
        ("one(var.objs[*].pw)", 11),
        ("jsondecode(local.encoded).password", 2),
        ("lower(var.pw)", 2),
        ("local.settings.password", 2),
    ],
)
def test_a_selected_literal_keeps_its_line(tmp_path: Path, expr: str, line: int) -> None:
    v = password(tmp_path, expr)
    assert v.known
    assert v.literal, f"{expr} lost the literal-ness of the tfvars value"
    assert (v.origin.file, v.origin.line) == ("terraform.tfvars", line)


@pytest.mark.parametrize(
    "expr",
    [
        "var.managed ? var.pw : random_password.db.result",
        "coalesce(random_password.db.result, var.pw)",
        '"${var.pw}${random_password.db.result}"',
        "var.nothing",
        'var.managed ? null : null',
    ],
)
def test_a_computed_or_null_value_is_not_a_literal(tmp_path: Path, expr: str) -> None:
    assert not password(tmp_path, expr).literal


def test_a_literal_written_in_the_expression_points_at_it(tmp_path: Path) -> None:
    v = password(tmp_path, 'var.managed ? null : "tiger111%"')
    assert v.literal and (v.origin.file, v.origin.line) == ("main.tf", 3)


def test_optional_default_and_module_argument_keep_provenance(tmp_path: Path) -> None:
    """A password passed as a module argument, from a local, through a conditional in the module."""
    (tmp_path / "main.tf").write_text(textwrap.dedent("""\
        variable "pw" {
          type = string
        }
        locals {
          db = { password = var.pw }
        }
        module "db" {
          source   = "./db"
          settings = [local.db]
        }
    """))
    (tmp_path / "terraform.tfvars").write_text('\n\npw = "tiger111!"\n')
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "main.tf").write_text(textwrap.dedent("""\
        variable "settings" {
          type = list(object({ password = optional(string), managed = optional(bool, false) }))
        }
        resource "aws_rds_cluster" "c" {
          engine          = "aurora-postgresql"
          master_password = var.settings[0].managed ? null : var.settings[0].password
        }
    """))
    loaded = load_root(tmp_path)
    v = loaded.deployment.clusters[0].master_password
    assert v.literal and (v.origin.file, v.origin.line) == ("terraform.tfvars", 3)
    findings = [f for f in evaluate(loaded.deployment, "default") if f.rule_id == "AV302"]
    assert [f.status.value for f in findings] == ["fail"]
    assert str(findings[0].result.location) == "terraform.tfvars:3"
    assert "tiger111" not in findings[0].result.message


def test_an_optional_default_points_at_the_type_that_declares_it(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(textwrap.dedent("""\
        variable "instances" {
          type = map(object({
            instance_class = optional(string, "db.r6g.large")
          }))
          default = { one = {} }
        }
        resource "aws_rds_cluster" "c" {
          engine = "aurora-postgresql"
        }
        resource "aws_rds_cluster_instance" "i" {
          for_each           = var.instances
          cluster_identifier = aws_rds_cluster.c.id
          instance_class     = each.value.instance_class
        }
    """))
    loaded = load_root(tmp_path)
    (instance,) = loaded.deployment.clusters[0].instances
    assert instance.instance_class.get() == "db.r6g.large"
    assert (instance.instance_class.origin.file, instance.instance_class.origin.line) == ("main.tf", 3)
    findings = [f for f in evaluate(loaded.deployment, "default") if f.rule_id == "AV103"]
    assert [(f.status.value, str(f.result.location)) for f in findings] == [("fail", "main.tf:3")]
