"""Provider and AWS semantics read as data, on variants written the way public modules write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from rulekit import FIXTURES, describe, of_rule, scan

from validator.rules import Status

BASE = (FIXTURES / "AV105" / "pass" / "zone_list_count_index.tf").read_text(encoding="utf-8")
SUBNETS = '''resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet("10.0.0.0/16", 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
}
'''


def zones(tmp_path: Path, subnets: str, subnet_ids: str = "aws_subnet.private[*].id") -> list[Status]:
    text = BASE.replace(SUBNETS, subnets).replace(
        "subnet_ids = aws_subnet.private[*].id # expect: AV105 pass", f"subnet_ids = {subnet_ids}"
    )
    assert text != BASE or subnets == SUBNETS
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    findings = of_rule(scan(tmp_path), "AV105")
    assert findings, describe(findings)
    return [f.status for f in findings]


@pytest.mark.parametrize(("count", "expected"), [(1, Status.UNRESOLVED), (2, Status.PASS), (3, Status.PASS)])
def test_count_over_the_zone_list(tmp_path: Path, count: int, expected: Status) -> None:
    assert zones(tmp_path, SUBNETS.replace("count             = 2", f"count             = {count}")) == [expected]


def test_for_each_with_distinct_indexes(tmp_path: Path) -> None:
    subnets = '''resource "aws_subnet" "private" {
  for_each          = { a = 0, b = 1 }
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet("10.0.0.0/16", 8, each.value)
  availability_zone = data.aws_availability_zones.available.names[each.value]
}
'''
    assert zones(tmp_path, subnets, "[for s in aws_subnet.private : s.id]") == [Status.PASS]


def test_element_wraps_around_so_it_proves_nothing(tmp_path: Path) -> None:
    """element() takes the index modulo the length: in a one-zone region both subnets share a zone."""
    subnets = SUBNETS.replace(
        "data.aws_availability_zones.available.names[count.index]",
        "element(data.aws_availability_zones.available.names, count.index)",
    )
    assert zones(tmp_path, subnets) == [Status.UNRESOLVED]


def test_two_zone_lists_prove_nothing_together(tmp_path: Path) -> None:
    subnets = '''resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet("10.0.0.0/16", 8, count.index)
  availability_zone = local.zones[count.index]
}

locals {
  zones = [data.aws_availability_zones.available.names[0], data.aws_availability_zones.other.names[1]]
}

data "aws_availability_zones" "other" {
  state = "available"
}
'''
    assert zones(tmp_path, subnets) == [Status.UNRESOLVED]


def test_engine_version_data_source_through_a_module(tmp_path: Path) -> None:
    """The echoed version travels through a module argument like any value."""
    cluster = (FIXTURES / "AV107" / "pass" / "v16_6.tf").read_text(encoding="utf-8")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "main.tf").write_text(
        'variable "engine_version" {\n  type = string\n}\n\n'
        + cluster.replace('"16.6"', "var.engine_version", 1),
        encoding="utf-8",
    )
    (tmp_path / "main.tf").write_text(
        'data "aws_rds_engine_version" "pg" {\n  engine  = "aurora-postgresql"\n  version = "16.6"\n}\n\n'
        'module "db" {\n  source         = "./db"\n  engine_version = data.aws_rds_engine_version.pg.version\n}\n',
        encoding="utf-8",
    )
    findings = of_rule(scan(tmp_path), "AV107")
    assert [f.status for f in findings] == [Status.PASS], describe(findings)


def test_a_counted_data_source_is_not_echoed(tmp_path: Path) -> None:
    text = (FIXTURES / "AV107" / "pass" / "engine_version_data_source.tf").read_text(encoding="utf-8")
    text = text.replace('data "aws_rds_engine_version" "pg" {', 'data "aws_rds_engine_version" "pg" {\n  count = 1')
    text = text.replace("data.aws_rds_engine_version.pg.", "data.aws_rds_engine_version.pg[0].")
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    findings = of_rule(scan(tmp_path), "AV107")
    assert [f.status for f in findings] == [Status.UNRESOLVED], describe(findings)
