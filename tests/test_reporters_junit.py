"""JUnit XML: one test case per rule and resource, parsed back with ElementTree."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from validator.cli import main
from validator.errors import InputError
from validator.findings import Report
from validator.reporters import junit

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"

UNRESOLVED_TF = """\
variable "engine_version" {}

resource "aws_rds_cluster" "db" {
  cluster_identifier                  = "kb-store"
  engine                              = "aurora-postgresql"
  engine_version                      = var.engine_version
  iam_database_authentication_enabled = true
}
"""


def junit_of(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, ET.Element]:
    code = main([*argv, "--format", "junit"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return code, ET.fromstring(out)


def cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    out = {}
    for case in root.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        assert key not in out, f"duplicate test case {key}"
        out[key] = case
    return out


def outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "pass"


def props(element: ET.Element) -> dict[str, str]:
    found = element.find("properties")
    assert found is not None
    return {p.get("name", ""): p.get("value", "") for p in found.iter("property")}


def test_reference_has_a_case_per_rule_and_resource_including_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, root = junit_of(capsys, str(REFERENCE))
    assert code == 0
    all_cases = cases(root)
    failed = {key for key, case in all_cases.items() if outcome(case) == "failure"}
    passed = {key for key, case in all_cases.items() if outcome(case) == "pass"}
    assert ("AV303", "module.aurora.aws_rds_cluster_instance.aurora_instance") in failed
    assert ("AV301", "module.network.aws_security_group.aurora_sg") in failed
    assert ("AV106", "module.aurora.aws_rds_cluster.aurora_cluster") in passed
    assert ("AV103", "module.aurora.aws_rds_cluster_instance.aurora_instance") in passed
    main([str(REFERENCE), "--format", "json", "--show-passed"])  # the same scan's findings (tests/snapshots pins them)
    doc = json.loads(capsys.readouterr().out)
    assert failed == {(f["rule_id"], f["resource"]) for f in doc["findings"] if f["status"] == "fail"}
    assert passed == {(f["rule_id"], f["resource"]) for f in doc["findings"] if f["status"] == "pass"}
    assert int(root.get("tests", "0")) == len(all_cases)
    assert int(root.get("failures", "0")) == len(failed)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "reference/terraform"
    assert int(suite.get("tests", "0")) == len(all_cases)


def test_failure_carries_severity_message_location_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    _, root = junit_of(capsys, str(ARTICLE))
    case = cases(root)[("AV108", "module.aurora.aws_rds_cluster.aurora_cluster")]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert "cluster_identifier" in failure.get("message", "")
    assert case.get("file", "").endswith("modules/aurora/aurora.tf")
    assert int(case.get("line", "0")) >= 1
    assert "Fix:" in (failure.text or "")
    warning = cases(root)[("AV303", "module.aurora.aws_rds_cluster_instance.aurora_instance")].find("failure")
    assert warning is not None and warning.get("type") == "warning"


def test_unresolved_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "main.tf").write_text(UNRESOLVED_TF, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, root = junit_of(capsys, ".")
    case = cases(root)[("AV107", "aws_rds_cluster.db")]
    skipped = case.find("skipped")
    assert skipped is not None, ET.tostring(case, encoding="unicode")
    assert skipped.get("message", "").startswith("unresolved: ")
    assert "var.engine_version has no default" in skipped.get("message", "")
    assert outcome(cases(root)[("AV106", "aws_rds_cluster.db")]) == "pass"


def test_suppressed_findings_are_skipped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REFERENCE, tmp_path / "terraform")
    monkeypatch.chdir(tmp_path)
    assert main(["terraform", "--write-baseline", "baseline.json", "--select", "AV301"]) == 0
    capsys.readouterr()
    code, root = junit_of(capsys, "terraform", "--baseline", "baseline.json")
    assert code == 0
    case = cases(root)[("AV301", "module.network.aws_security_group.aurora_sg")]
    skipped = case.find("skipped")
    assert skipped is not None
    assert "suppressed (baseline)" in skipped.get("message", "")
    assert props(root)["suppressed"] == "1"
    assert props(root)["suppressed.baseline"] == "1"
    assert int(root.get("skipped", "0")) == 1


def test_input_errors_are_error_cases(capsys: pytest.CaptureFixture[str]) -> None:
    code, root = junit_of(capsys, str(REFERENCE), "no-such-dir")
    assert code == 2
    case = cases(root)[("input", "no-such-dir")]
    error = case.find("error")
    assert error is not None and "no such file or directory" in error.get("message", "")
    assert int(root.get("errors", "0")) == 1


def test_messages_are_escaped_for_xml() -> None:
    report = Report(errors=[InputError("a<b>&c.tf:3", 'unexpected "<" & more', "parse error")])
    root = ET.fromstring(junit.render(report))
    (case,) = root.iter("testcase")
    assert case.get("name") == "a<b>&c.tf:3"
    error = case.find("error")
    assert error is not None and 'unexpected "<" & more' in error.get("message", "")


def test_control_characters_do_not_break_the_xml() -> None:
    report = Report(errors=[InputError("main.tf:1", "odd byte \x01 and \x1b[31m here", "parse error")])
    root = ET.fromstring(junit.render(report))
    error = next(root.iter("error"))
    assert error.get("message", "").endswith("odd byte \ufffd and \ufffd[31m here")
