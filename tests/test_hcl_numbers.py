"""Terraform numbers and wrong-type calls in the HCL evaluator: exact values or Unknown("line N: ..."),
never a Python exception. The values are terraform 1.11's (the oracle test checks them against it)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from validator.model import Unknown
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.hcl.evaluate import EvalError, Evaluator, to_json_value
from validator.sources.terraform.hcl.syntax import parse_text


class _Empty:
    def lookup(self, name: str, line: int) -> object:
        raise EvalError(f"{name} is not declared")


def value(expr: str) -> object:
    pf = parse_text(f"\n\nx = {expr}\n", Path("t.tf"), "t.tf")
    return to_json_value(Evaluator(_Empty()).eval(pf.body.attributes["x"].expr))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1e999", 10**999),
        ("floor(1e999)", 10**999),
        ('"${1e999}"', 10**999),
        ("0.1 + 0.2", Decimal("0.3")),
        ("2 / 3 * 3", 2),
        ("7 % -3", 1),
        ("-7 % 3", -1),
        ("5 % 0", 5),
        ("1e400 % 7", None),  # terraform's 512-bit remainder is not reproduced: unknown
        ("pow(2, 600)", int("4149515568880993" + "0" * 165)),
        ('"${123456789012345678901234567890 * 987654321098765432109876543210}"',
         121932631137021795226185032733622923332237463801111263526900),
        ("tostring(1e20)", "100000000000000000000"),
        ('format("%d", 1e999)', None),
        ("jsonencode(-0)", "-0"),
    ],
)
def test_numbers_follow_terraform(expr: str, expected: object) -> None:
    got = value(expr)
    if expected is None:
        assert got is not None
        if isinstance(got, Unknown):
            assert got.reason.startswith("line 3: ")
        return
    assert got == expected


@pytest.mark.parametrize(
    "expr",
    [
        "keys([1])", 'values("x")', "length(1)", "[1, 2][1e999]", 'substr("abc", 1e999, 1)', "element([1], 1e999)",
        'format("%d", 1.5)', "1 / 0", "0 / 0", "range(1e999)", "1e99999999", "signum(1e999)",
        "cidrsubnet(\"::/0\", 120, 1e15)", 'format("%0999999999d", 1)', "tobool(\"s3cr3t\")", "pow(10, 400) * 1e99999",
        "parseint(\"1\", 1e999)", 'jsondecode("' + "[" * 3000 + "]" * 3000 + '")[0]',
    ],
)
def test_errors_are_unknown_naming_the_line(expr: str) -> None:
    got = value(expr)
    if isinstance(got, Unknown):
        assert got.reason.startswith("line 3: "), got.reason
        assert "s3cr3t" not in got.reason


def test_huge_interpolated_product_is_not_python_int_to_str_limit() -> None:
    big = "9" * 3000
    got = value(f'"${{{big} * {big}}}"')
    text = format(Decimal(got), "f") if isinstance(got, int) else ""
    assert len(text) == 6000  # rounded to 512 bits, as terraform holds it
    assert text.endswith("0" * 5000)


def test_count_of_1e999_and_for_each_of_a_number_do_not_hang_or_crash(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(textwrap.dedent("""
        resource "aws_rds_cluster" "c" {
          count  = 1e999
          engine = "aurora-postgresql"
        }
        resource "aws_rds_cluster" "d" {
          count  = 0 * 1e999
          engine = "aurora-postgresql"
        }
        resource "aws_rds_cluster" "e" {
          for_each = 5
          engine   = "aurora-postgresql"
        }
    """))
    clusters = {c.address: c for c in load_root(tmp_path).deployment.clusters}
    assert "aws_rds_cluster.c" in clusters  # one unresolved instance, not 10**999
    assert "aws_rds_cluster.e" in clusters
    assert not any(a.startswith("aws_rds_cluster.d") for a in clusters)  # count = 0
