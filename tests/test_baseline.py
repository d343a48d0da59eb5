"""Baselines: recorded findings stay suppressed when lines move; new and expired ones count."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from validator import baseline
from validator.cli import main
from validator.findings import Finding, Report
from validator.model import Location
from validator.rules import Result, Severity, Status, get_rule

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out), err


def active(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]) for f in doc["findings"] if f["status"] != "pass"}


def replace_line(path: Path, needle: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, text in enumerate(lines) if needle in text]
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository-like directory: terraform/ (the reference) and the baseline beside it."""
    shutil.copytree(REFERENCE, tmp_path / "terraform")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def reported(capsys: pytest.CaptureFixture[str], *argv: str) -> set[tuple[str, str]]:
    """What a scan without a baseline reports (rule and resource of each failure or unresolved check)."""
    _, doc, _ = run(capsys, *argv)
    found = active(doc)
    assert found, "the reference reports findings to record"
    return found


def test_write_records_findings_sorted_and_suppresses_them(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = reported(capsys, "terraform")
    code, doc, err = run(capsys, "terraform", "--write-baseline", "baseline.json", "--fail-on", "info")
    assert code == 0  # everything recorded is accepted
    assert f"recorded {len(expected)} finding(s) in baseline.json" in err
    assert doc["findings"] == [] and doc["summary"]["suppressed"] == len(expected)
    assert doc["suppressed_by"] == {"baseline": len(expected)}
    written = json.loads((project / "baseline.json").read_text(encoding="utf-8"))
    assert written["version"] == baseline.FORMAT_VERSION and written["tool"] == "aurora-validate"
    entries = written["entries"]
    assert [e["rule_id"] for e in entries] == sorted(e["rule_id"] for e in entries)
    assert {(e["rule_id"], e["resource"]) for e in entries} == expected
    for entry in entries:
        assert set(entry) == {"rule_id", "resource", "file", "fingerprint", "message"}
        assert entry["file"].startswith("terraform/")
        assert "line" not in entry
    # Writing again gives byte-identical content (stable diffs).
    before = (project / "baseline.json").read_bytes()
    run(capsys, "terraform", "--write-baseline", "baseline.json")
    assert (project / "baseline.json").read_bytes() == before


def test_moved_lines_stay_suppressed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = reported(capsys, "terraform")
    run(capsys, "terraform", "--write-baseline", "baseline.json")
    for name in ("variables.tf", "modules/aurora/aurora.tf", "modules/network/network.tf"):
        path = project / "terraform" / name
        path.write_text("# a comment\n\n\n\n" + path.read_text(encoding="utf-8").replace("\n\n", "\n\n\n"))
    code, doc, _ = run(capsys, "terraform", "--baseline", "baseline.json", "--fail-on", "info")
    assert code == 0
    assert active(doc) == set()
    assert doc["summary"]["suppressed"] == len(expected)
    # The plaintext-password message names its line; the fingerprint leaves numbers out.
    (av302,) = [f for f in doc["suppressed"] if f["rule_id"] == "AV302"]
    assert av302["location"]["line"] > 22 and av302["suppressed_by"] == "baseline"


def test_new_finding_is_reported(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = reported(capsys, "terraform")
    run(capsys, "terraform", "--write-baseline", "baseline.json")
    aurora = project / "terraform/modules/aurora/aurora.tf"
    replace_line(aurora, "storage_encrypted", "  storage_encrypted = false")
    replace_line(aurora, "engine_mode", '  engine_mode = "serverless"')
    code, doc, _ = run(capsys, "terraform", "--baseline", "baseline.json")
    assert code == 1
    assert active(doc) == {
        ("AV304", "module.aurora.aws_rds_cluster.aurora_cluster"),
        ("AV102", "module.aurora.aws_rds_cluster.aurora_cluster"),
    }
    assert doc["summary"]["suppressed"] == len(expected)


def test_a_second_identical_finding_is_not_hidden(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = get_rule("AV301")
    assert rule is not None
    result = Result(Status.FAIL, "sg admits port 5432 from 0.0.0.0/0", "aws_security_group.db", Location("m.tf", 4))
    one = Finding(rule, Severity.WARNING, result, ".")
    report = Report(findings=[one])
    baseline.write(report, project / "b.json")
    capsys.readouterr()
    moved = Finding(
        rule, Severity.WARNING, Result(result.status, result.message, result.resource, Location("m.tf", 9)), "."
    )
    twice = Report(findings=[one, moved])
    baseline.apply(twice, project / "b.json")
    assert [f.suppressed_by for f in twice.findings] == ["baseline", None]


def test_expired_entries_count_again_and_say_so(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "terraform", "--write-baseline", "baseline.json")
    path = project / "baseline.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for entry in doc["entries"]:
        if entry["rule_id"] == "AV303":
            entry["expires"] = yesterday
        elif entry["rule_id"] == "AV301":
            entry["expires"] = tomorrow
            entry["note"] = "dev VPC until the VPN lands"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, report, _ = run(capsys, "terraform", "--baseline", "baseline.json", "--fail-on", "warning")
    assert code == 1
    (av303,) = report["findings"]
    assert av303["rule_id"] == "AV303"
    assert av303["message"].endswith(f"(baseline entry expired on {yesterday})")
    (av301,) = [f for f in report["suppressed"] if f["rule_id"] == "AV301"]
    assert av301["suppressed_by"] == "baseline: dev VPC until the VPN lands"
    # Rewriting keeps expiry dates and notes, and does not record the expiry note in the message.
    run(capsys, "terraform", "--baseline", "baseline.json", "--write-baseline", "baseline.json")
    kept = {e["rule_id"]: e for e in json.loads(path.read_text(encoding="utf-8"))["entries"]}
    assert kept["AV303"]["expires"] == yesterday
    assert "expired" not in kept["AV303"]["message"]
    assert kept["AV301"]["expires"] == tomorrow and kept["AV301"]["note"] == "dev VPC until the VPN lands"


def test_the_baseline_works_from_another_directory(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = reported(capsys, "terraform")
    run(capsys, "terraform", "--write-baseline", "baseline.json")
    monkeypatch.chdir(project / "terraform")
    code, doc, _ = run(capsys, ".", "--baseline", "../baseline.json", "--fail-on", "info")
    assert code == 0 and doc["summary"]["suppressed"] == len(expected)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such baseline file"),
        ("{not json", "not JSON"),
        ('{"entries": {}}', 'expected an object with an "entries" list'),
        ('{"version": 9, "entries": []}', "format version 9"),
        ('{"entries": [{"rule_id": "AV301"}]}', "entry 1 has no fingerprint"),
        ('{"entries": [{"fingerprint": "x", "expires": "next week"}]}', "is not an ISO date"),
    ],
)
def test_bad_baseline_is_a_one_line_input_error(
    project: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    if content is not None:
        (project / "b.json").write_text(content, encoding="utf-8")
    code = main(["terraform", "--baseline", "b.json"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "b.json" in line]
    assert expected in line and line.startswith("aurora-validate: b.json")


def test_unwritable_baseline_is_an_input_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["terraform", "--write-baseline", str(project / "no-such-dir" / "b.json")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "cannot write baseline" in err and "Traceback" not in err


def test_fingerprint_ignores_numbers_and_lines_but_not_rule_resource_or_file() -> None:
    rule = get_rule("AV402")
    other = get_rule("AV403")
    assert rule is not None and other is not None

    def finding(r=rule, message="min_capacity 0.5 costs $73.00", resource="aws_rds_cluster.db", file="a.tf", line=3):
        return Finding(r, Severity.INFO, Result(Status.FAIL, message, resource, Location(file, line)), ".")

    base = baseline.fingerprint(finding())
    assert baseline.fingerprint(finding(line=30)) == base
    assert baseline.fingerprint(finding(message="min_capacity 1 costs $146.00")) == base
    assert baseline.fingerprint(finding(r=other)) != base
    assert baseline.fingerprint(finding(resource="aws_rds_cluster.other")) != base
    assert baseline.fingerprint(finding(file="b.tf")) != base
    assert baseline.fingerprint(finding(message="something else entirely")) != base
