"""Command-line options: --ruleset and --profile, --report, one --format, --soft-fail, -V, typos, completion."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from validator import __version__
from validator.cli import main
from validator.reporters import FORMATS

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def exits(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """A command argparse ends itself (usage error, --version)."""
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


# --------------------------------------------------------------------------- #
# --ruleset is the rule profile, --profile the AWS profile


def test_ruleset_selects_the_rule_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(REFERENCE), "--ruleset", "bedrock-kb", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["profile"] == "bedrock-kb"
    assert {f["rule_id"] for f in doc["findings"] if f["severity"] == "error"} == {"AV201", "AV202"}


@pytest.mark.parametrize("argv", [["--profile", "bedrock-kb"], ["--profile=bedrock-kb"]])
def test_the_old_spelling_is_a_one_line_error_naming_ruleset(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, str(REFERENCE), *argv)
    assert code == 2 and out == ""
    assert err == "aurora-validate: error: --profile names an AWS profile; the rule profile is --ruleset bedrock-kb\n"


def test_db_and_demo_reject_the_old_spelling_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "db", "--dsn", "postgresql://u@127.0.0.1:1/x", "--profile", "bedrock-kb")
    assert code == 2 and "--ruleset bedrock-kb" in err and len(err.splitlines()) == 1
    code, _out, err = run(capsys, "demo", "--profile", "bedrock-kb")
    assert code == 2 and "--ruleset bedrock-kb" in err and len(err.splitlines()) == 1


def test_profile_is_the_aws_profile_of_live_audits(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, _out, err = run(capsys, "--live", "--all", "--region", "eu-west-1", "--profile", "prod-readonly")
    assert code == 2 and "AWS profile 'prod-readonly' is not configured" in err


def test_a_static_scan_accepts_an_aws_profile_it_does_not_need(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _err = run(capsys, str(REFERENCE), "--profile", "prod", "--quiet")
    assert code == 0


# --------------------------------------------------------------------------- #
# Several reports from one scan


def test_one_scan_writes_several_reports_and_keeps_text_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sarif, junit, data = tmp_path / "r.sarif", tmp_path / "r.xml", tmp_path / "r.json"
    code, out, _ = run(
        capsys, str(ARTICLE), "--report", f"sarif={sarif}", "--report", f"junit={junit}", "--report", f"json={data}"
    )
    assert code == 1
    assert "by rule:" in out and out.rstrip().endswith("(profile default)")  # the text report on stdout
    doc = json.loads(data.read_text())
    failing = sorted(f["rule_id"] for f in doc["findings"] if f["status"] == "fail")
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results if r.get("kind", "fail") == "fail") == failing
    assert int(ET.parse(junit).getroot().get("failures", "0")) == len(failing)


def test_format_and_output_combine_with_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(REFERENCE), "-f", "json", "--report", f"github={tmp_path / 'gh.txt'}")
    assert code == 0 and json.loads(out)["roots"]
    assert (tmp_path / "gh.txt").read_text().startswith("::")


def test_format_given_twice_is_an_error_that_explains_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = exits(capsys, str(REFERENCE), "-f", "json", "-f", "sarif")
    assert code == 2 and out == ""
    assert "--format given twice (json, sarif)" in err and "--report sarif=" in err


def test_the_same_format_twice_is_harmless(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(REFERENCE), "-f", "json", "--format", "json")
    assert code == 0 and json.loads(out)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sarif", "expected FMT=FILE"),
        ("sarif=", "expected FMT=FILE"),
        ("xml=out.xml", "unknown format 'xml' (choose from text, json, sarif, junit, github"),
    ],
)
def test_bad_report_values_are_one_line_errors(capsys: pytest.CaptureFixture[str], value: str, expected: str) -> None:
    code, out, err = run(capsys, str(REFERENCE), "--report", value)
    assert code == 2 and out == "" and expected in err and len(err.splitlines()) == 1


def test_two_reports_to_one_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x"
    code, _out, err = run(capsys, str(REFERENCE), "--report", f"json={target}", "--report", f"sarif={target}")
    assert code == 2 and "already the file of another report" in err


def test_any_registered_reporter_is_a_report_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reporter added to validator.reporters.FORMATS (html, say) needs no change in the CLI."""
    module = types.ModuleType("fake_html_reporter")

    def render(report, show_passed: bool = False, color: bool = False) -> str:
        return f"<p>{len(report.active())} findings in {', '.join(report.roots)}</p>\n"

    module.render = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_html_reporter", module)
    monkeypatch.setitem(FORMATS, "html", "fake_html_reporter")
    code, _out, _err = run(capsys, str(REFERENCE), "--report", f"html={tmp_path / 'r.html'}")
    assert code == 0
    assert (tmp_path / "r.html").read_text().startswith("<p>") and "reference/terraform" in (
        tmp_path / "r.html"
    ).read_text()


def test_an_unwritable_report_file_is_exit_2_after_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    code, out, err = run(
        capsys, str(REFERENCE), "--report", f"sarif={tmp_path / 'no' / 'dir.sarif'}", "--report", f"json={good}"
    )
    assert code == 2 and good.is_file() and "dir.sarif: error:" in err and out


# --------------------------------------------------------------------------- #
# --soft-fail, -V


def test_soft_fail_reports_failures_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(ARTICLE), "--soft-fail")
    assert code == 0 and "error AV108" in out
    assert run(capsys, str(ARTICLE))[0] == 1


def test_soft_fail_keeps_exit_2_for_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, str(ARTICLE), str(tmp_path / "missing"), "--soft-fail")
    assert code == 2 and "no such file or directory" in err


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    code, out, _ = exits(capsys, flag)
    assert code == 0 and out == f"aurora-validate {__version__}\n"


# --------------------------------------------------------------------------- #
# A mistyped command


@pytest.mark.parametrize(
    ("word", "meant"), [("explian", "explain"), ("rule", "rules"), ("dmo", "demo"), ("exprot", "export")]
)
def test_a_mistyped_command_says_which_one_was_meant(capsys: pytest.CaptureFixture[str], word: str, meant: str) -> None:
    code, out, err = run(capsys, word, "AV301")
    assert code == 2 and out == ""
    assert err.startswith(f"aurora-validate: error: unknown command '{word}', did you mean {meant}?")
    assert len(err.splitlines()) == 1


def test_a_path_named_like_a_command_is_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REFERENCE, tmp_path / "explian")
    code, out, _ = run(capsys, "explian")
    assert code == 0 and "in 1 root module" in out


def test_a_word_close_to_no_command_is_a_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "terraform-prod")
    assert code == 2 and "terraform-prod: error: no such file or directory" in err


# --------------------------------------------------------------------------- #
# Shell completion


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_is_generated_from_the_parsers(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0
    for word in ("--ruleset", "--report", "--soft-fail", "--profile", "--compact", "--dsn", "explain", "AV301"):
        assert word in out, word


def test_bash_completion_script_is_valid_bash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "completion", "bash")
    main(["completion", "bash"])
    script = tmp_path / "aurora-validate.bash"
    script.write_text(capsys.readouterr().out)
    probe = (
        f"source {script}; COMP_WORDS=(aurora-validate --rules); COMP_CWORD=1; COMP_LINE='aurora-validate --rules';"
        " COMP_POINT=${#COMP_LINE}; _shtab_aurora_validate; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "--ruleset" in done.stdout.split()


def test_completion_needs_a_known_shell(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = exits(capsys, "completion", "fish")
    assert code == 2 and "invalid choice: 'fish'" in err


def test_the_static_scan_imports_no_completion_aws_or_database_library() -> None:
    probe = (
        "import sys; from validator.cli import main; main(['reference/terraform', '--quiet']);"
        "print(sorted(m for m in ('shtab', 'boto3', 'botocore', 'psycopg') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_a_registered_reporter_is_a_format_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("fake_csv_reporter")
    module.render = lambda report, show_passed=False, color=False: "rule,status\n"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_csv_reporter", module)
    monkeypatch.setitem(FORMATS, "csv", "fake_csv_reporter")
    code, out, _ = run(capsys, str(REFERENCE), "--format", "csv")
    assert code == 0 and out == "rule,status\n"
