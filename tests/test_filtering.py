"""Filtering a run's findings through typed options, on reports built by hand.

The engine takes a ``FilterOptions`` (what the command line builds from --select, --skip,
--baseline and --write-baseline and the configuration); it prints nothing: the command line
does the I/O, as a library user of the engine would.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from validator import baseline
from validator.cli import filter_options, rule_ids
from validator.engine import FilterOptions, apply_filters
from validator.findings import Finding, Report
from validator.model import Deployment, Location
from validator.rules import Result, Status, get_rule


def finding(rule_id: str, line: int, status: Status = Status.FAIL, root: str = "infra") -> Finding:
    rule = get_rule(rule_id)
    assert rule is not None
    resource = f"aws_thing.{rule_id.lower()}"
    result = Result(status, f"{rule_id} message on line {line}", resource, Location("main.tf", line))
    return Finding(rule, rule.severity, result, root)


def report(*findings: Finding, suppressions: dict[tuple[str, int], list[tuple[str, str]]] | None = None) -> Report:
    deployment = Deployment(kind="hcl", root="infra", suppressions=suppressions or {})
    return Report(findings=list(findings), roots=["infra"], deployments=[deployment])


def test_no_options_change_nothing() -> None:
    r = report(finding("AV301", 3), finding("AV106", 5))
    before = list(r.findings)
    assert apply_filters(r, FilterOptions()).recorded is None
    assert r.findings == before


def test_select_and_skip_keep_and_drop_rule_ids() -> None:
    r = report(finding("AV301", 3), finding("AV106", 5), finding("AV102", 7))
    apply_filters(r, FilterOptions(select=frozenset({"AV301", "AV106"}), skip=frozenset({"AV106"})))
    assert [f.rule_id for f in r.findings] == ["AV301"]


def test_inline_suppressions_apply_with_a_reason_only() -> None:
    r = report(
        finding("AV301", 3),
        finding("AV106", 5),
        suppressions={("main.tf", 2): [("AV301", "dev VPC only")], ("main.tf", 5): [("AV106", "")]},
    )
    apply_filters(r, FilterOptions())
    assert [f.suppressed_by for f in r.findings] == ["inline (main.tf:2): dev VPC only", None]


def test_writing_a_baseline_prints_nothing_and_says_how_many_it_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accepted.json"
    r = report(finding("AV301", 3), finding("AV106", 5), finding("AV102", 7, Status.PASS))
    outcome = apply_filters(r, FilterOptions(write_baseline=path))
    assert outcome.recorded == 2
    assert capsys.readouterr() == ("", "")
    assert [e["rule_id"] for e in json.loads(path.read_text(encoding="utf-8"))["entries"]] == ["AV106", "AV301"]
    assert [f.suppressed_by for f in r.findings] == ["baseline", "baseline", None]
    again = report(finding("AV301", 30), finding("AV304", 9))  # moved line; a new finding
    assert apply_filters(again, FilterOptions(baseline=path)).recorded is None
    assert [f.suppressed_by for f in again.findings] == ["baseline", None]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_baseline_that_cannot_be_written_is_an_input_error_not_a_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    r = report(finding("AV301", 3))
    assert baseline.write(r, fifo) is None
    assert capsys.readouterr() == ("", "")
    assert [(e.where, e.message) for e in r.errors] == [(str(fifo), "cannot write baseline: it is a FIFO (named pipe)")]
    assert r.findings[0].suppressed_by is None


def test_the_command_line_builds_the_options_from_its_settled_namespace() -> None:
    args = argparse.Namespace(select="av301, AV106,", skip=None, baseline="b.json", write_baseline="")
    assert filter_options(args) == FilterOptions(
        select=frozenset({"AV301", "AV106"}), skip=frozenset(), baseline=Path("b.json"), write_baseline=None
    )
    assert rule_ids(None) == frozenset()
