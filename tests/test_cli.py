"""The command line: expected results on the references, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
HARDENED = REPO / "reference" / "terraform-bedrock"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert "Traceback" not in err
    return code, json.loads(out)


def failing(doc: dict, severity: str | None = None) -> set[str]:
    return {
        f["rule_id"]
        for f in doc["findings"]
        if f["status"] == "fail" and (severity is None or f["severity"] == severity)
    }


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_reference_passes_default_profile_with_its_dev_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(REFERENCE))
    assert code == 0
    assert failing(doc, "error") == set()
    assert {"AV301", "AV302", "AV303"} <= failing(doc, "warning")
    assert {"AV401", "AV402", "AV403"} <= failing(doc, "info")  # the whole report: tests/snapshots
    assert [f for f in doc["findings"] if f["status"] == "unresolved"] == []


def test_reference_fails_bedrock_profile_on_data_api_and_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(REFERENCE), "--ruleset", "bedrock-kb")
    assert code == 1
    assert failing(doc, "error") == {"AV201", "AV202"}


def test_article_as_published_fails_on_the_cluster_identifier_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, str(ARTICLE))
    assert code == 1
    aurora = ARTICLE / "modules" / "aurora" / "aurora.tf"
    hits = [f for f in doc["findings"] if f["rule_id"] == "AV108" and "cluster_identifier" in f["message"]]
    assert len(hits) == 1
    assert hits[0]["severity"] == "error"
    assert hits[0]["resource"] == "module.aurora.aws_rds_cluster.aurora_cluster"
    assert hits[0]["location"] == {"file": "modules/aurora/aurora.tf", "line": line_of(aurora, "cluster_identifier =")}


@pytest.mark.parametrize("profile", ["default", "bedrock-kb"])
def test_hardened_variant_has_nothing_above_info(capsys: pytest.CaptureFixture[str], profile: str) -> None:
    code, doc = scan_json(capsys, str(HARDENED), "--ruleset", profile, "--show-passed")
    assert code == 0
    above_info = [f for f in doc["findings"] if f["status"] != "pass" and f["severity"] != "info"]
    assert above_info == []
    assert {f["rule_id"] for f in doc["findings"] if f["status"] == "pass"} >= {
        "AV101", "AV102", "AV103", "AV104", "AV105", "AV106", "AV107", "AV108",
        "AV201", "AV202", "AV203", "AV204", "AV301", "AV302", "AV303", "AV304",
    }


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    _code, doc = scan_json(capsys, str(REFERENCE))
    assert set(doc) >= {"findings", "summary"}
    for f in doc["findings"]:
        assert set(f) >= {"rule_id", "severity", "status", "message", "resource", "location"}
        assert f["severity"] in ("error", "warning", "info")
        assert f["status"] in ("fail", "unresolved")
        assert not Path(f["location"]["file"]).is_absolute() and f["location"]["line"] >= 1
    for level in ("error", "warning", "info"):
        expected = sum(1 for f in doc["findings"] if f["status"] == "fail" and f["severity"] == level)
        assert doc["summary"][level] == expected


def test_show_passed_lists_passes(capsys: pytest.CaptureFixture[str]) -> None:
    _code, doc = scan_json(capsys, str(REFERENCE), "--show-passed")
    passed = {f["rule_id"] for f in doc["findings"] if f["status"] == "pass"}
    assert {"AV101", "AV102", "AV103", "AV105", "AV106"} <= passed


def test_files_select_their_root_modules_once(capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        str(REFERENCE / "modules" / "aurora" / "aurora.tf"),
        str(REFERENCE / "modules" / "network" / "network.tf"),
        str(REFERENCE / "main.tf"),
    ]
    code, doc = scan_json(capsys, *files)
    assert code == 0
    assert [Path(r).resolve() for r in doc["roots"]] == [REFERENCE.resolve()]


def test_parse_error_is_one_line_exit_2_and_other_files_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'resource "aws_rds_cluster" "c" {\n  engine      = "aurora-postgresql"\n  engine_mode = "serverless"\n}\n'
    )
    (root / "broken.tf").write_text('resource "aws_subnet" "s" {\n  cidr_block = "10.0.0.0/24\n}\n')
    code, out, err = run(capsys, str(root), "--format", "json")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"aurora-validate: {root}/broken.tf:")
    assert "parse error" in lines[0]
    assert "AV102" in failing(json.loads(out))


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "no such file or directory"),
        ("empty_dir", "no .tf files in this directory"),
        ("not_tf", "not a Terraform file"),
    ],
)
def test_bad_paths_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    target = tmp_path / setup
    if setup == "empty_dir":
        target.mkdir()
    elif setup == "not_tf":
        target.write_text("hello")
    code, _out, err = run(capsys, str(target), str(REFERENCE))
    assert code == 2
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == 1 and expected in errors[0] and str(target) in errors[0]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 2
    with pytest.raises(SystemExit) as exited:  # argparse's own usage error
        main([str(REFERENCE), "--ruleset", "nonsense"])
    assert exited.value.code == 2
    assert run(capsys, "--cluster", "x")[0] == 2
    code, _out, err = run(capsys, str(REFERENCE), "--var", "novalue")
    assert code == 2 and "NAME=VALUE" in err


def test_fail_on_levels(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(REFERENCE), "--fail-on", "error")[0] == 0
    assert run(capsys, str(REFERENCE), "--fail-on", "warning")[0] == 1
    assert run(capsys, str(HARDENED), "--fail-on", "warning")[0] == 0


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    ids = [r["id"] for r in json.loads(out)]
    assert code == 0 and ids == sorted(ids) and {"AV101", "AV108", "AV203", "AV304", "AV404"} <= set(ids)
    code, out, _ = run(capsys, "explain", "av106")
    assert code == 0
    assert "AV106" in out and "https://docs.aws.amazon.com/" in out
    assert "iam_database_authentication_enabled = true" in out
    code, _out, err = run(capsys, "explain", "AV999")
    assert code == 2 and "unknown rule" in err


def test_static_scan_imports_neither_boto3_nor_psycopg() -> None:
    probe = (
        "import sys; from validator.cli import main; code = main(['reference/terraform', '--format', 'json']);"
        "print(file=sys.stderr); print('boto3' in sys.modules, 'psycopg' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False False"


def test_console_script_runs_as_a_fresh_process() -> None:
    exe = Path(sys.executable).parent / "aurora-validate"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "validator.cli"]
    done = subprocess.run(
        [*cmd, "reference/terraform"], cwd=REPO, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "AV301" in done.stdout and done.stdout.rstrip().splitlines()[-1].startswith("0 error(s)")


@pytest.mark.parametrize("option", ["--select", "--skip"])
def test_unknown_rule_ids_in_select_and_skip_are_usage_errors(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped id must not turn the gate green by selecting nothing."""
    code = main([str(REFERENCE), option, "AV301,XX9"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip() == f"aurora-validate: error: {option}: unknown rule id(s): XX9 (see: aurora-validate rules)"
