"""GitHub Actions workflow commands: one annotation per finding, escaped as the runner expects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from validator.cli import main
from validator.findings import Finding, Report
from validator.model import Location
from validator.reporters import github
from validator.rules import Result, Severity, Status, get_rule

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"
COMMAND = re.compile(r"^::(?P<name>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<message>.*)$")


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """Read a workflow command back as the Actions runner does."""
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = {}
    for pair in (m["props"] or "").split(","):
        if pair:
            key, _, value = pair.partition("=")
            props[key] = unescape_property(value)
    return m["name"], props, unescape_data(m["message"])


def annotations(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[tuple[str, dict, str]], str]:
    code = main([*argv, "--format", "github"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    lines = out.splitlines()
    return code, [parse(line) for line in lines if line.startswith("::")], lines[-1]


def test_severity_maps_to_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, found, summary = annotations(capsys, str(ARTICLE))
    assert code == 1
    by_title = {(props["title"], props.get("line")): name for name, props, _ in found}
    aurora = (ARTICLE / "modules/aurora/aurora.tf").read_text(encoding="utf-8").splitlines()
    line_108 = next(n for n, t in enumerate(aurora, 1) if "cluster_identifier" in t and "aws_rds_cluster" not in t)
    assert by_title[("AV108", str(line_108))] == "error"
    assert {name for (title, _), name in by_title.items() if title == "AV303"} == {"warning"}
    assert {name for (title, _), name in by_title.items() if title == "AV402"} == {"notice"}
    assert summary.startswith("2 error(s), 5 warning(s)")


def test_file_and_line_point_at_the_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    _, found, _ = annotations(capsys, str(REFERENCE))
    (av303,) = [(props, message) for _, props, message in found if props["title"] == "AV303"]
    props, message = av303
    assert props["file"].endswith("terraform/modules/aurora/aurora.tf")
    lines = (REFERENCE / "modules/aurora/aurora.tf").read_text(encoding="utf-8").splitlines()
    assert "publicly_accessible = true" in lines[int(props["line"]) - 1]
    assert message.endswith("[module.aurora.aws_rds_cluster_instance.aurora_instance]")


def test_suppressed_findings_are_not_annotated_but_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([str(REFERENCE), "--write-baseline", "b.json", "--select", "AV301,AV302"]) == 0
    capsys.readouterr()
    _, found, summary = annotations(capsys, str(REFERENCE), "--baseline", "b.json")
    titles = {props["title"] for _, props, _ in found}
    assert "AV301" not in titles and "AV302" not in titles and "AV303" in titles
    assert "2 suppressed (2 baseline)" in summary


def test_input_errors_are_error_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, found, _ = annotations(capsys, str(REFERENCE), "no-such-dir")
    assert code == 2
    errors = [(props, message) for name, props, message in found if props.get("title") == "input error"]
    assert errors == [({"file": "no-such-dir", "title": "input error"}, "error: no such file or directory")]


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert github.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    line = github.command("warning", "x: 50%\nsecond line", file="dir,with:odd/main.tf", line=3, title="AV301")
    assert line == "::warning file=dir%2Cwith%3Aodd/main.tf,line=3,title=AV301::x: 50%25%0Asecond line"
    assert parse(line) == (
        "warning",
        {"file": "dir,with:odd/main.tf", "line": "3", "title": "AV301"},
        "x: 50%\nsecond line",
    )


def test_unresolved_and_live_findings() -> None:
    rule = get_rule("AV107")
    assert rule is not None
    arn = "arn:aws:rds:ap-northeast-1:123456789012:cluster:kb"
    unresolved = Finding(
        rule,
        Severity.ERROR,
        Result(Status.UNRESOLVED, "engine version cannot be determined: x", arn, Location(api_call="rds:X", arn=arn)),
        "ap-northeast-1",
    )
    line = github.annotation(unresolved)
    assert line is not None
    name, props, message = parse(line)
    assert name == "notice" and props == {"title": "AV107 unresolved"}
    assert arn in message and "rds:X" in message
    passed = Finding(rule, Severity.ERROR, Result(Status.PASS, "ok", "r"), "root")
    assert github.annotation(passed) is None
    out = github.render(Report(findings=[unresolved, passed], roots=[arn]))
    assert out.count("::") == 2  # one command; passes give none
