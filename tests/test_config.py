"""Configuration files: [tool.aurora-validate] in pyproject.toml or .aurora-validate.toml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REFERENCE, tmp_path / "terraform")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["terraform", "--format", "json", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def failing(doc: dict) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in doc["findings"] if f["status"] == "fail"}


def test_without_configuration_the_defaults_apply(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan(capsys)
    assert code == 0 and doc["profile"] == "default"
    assert failing(doc)["AV201"] == "warning"


def test_pyproject_section_sets_ruleset_fail_on_and_skip(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "infra"\n\n[tool.aurora-validate]\nruleset = "bedrock-kb"\nfail-on = "warning"\n'
        'skip = ["AV201", "AV202"]\n',
        encoding="utf-8",
    )
    code, doc = scan(capsys)
    assert doc["profile"] == "bedrock-kb"
    assert "AV201" not in failing(doc) and "AV202" not in failing(doc)
    assert code == 1  # warnings (AV301-AV303) fail at fail-on = warning


def test_pyproject_without_the_section_is_ignored(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "infra"\n', encoding="utf-8")
    code, doc = scan(capsys)
    assert code == 0 and doc["profile"] == "default"


def test_dedicated_file_with_or_without_the_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / ".aurora-validate.toml"
    config.write_text('[tool.aurora-validate]\nskip = ["AV301"]\n', encoding="utf-8")
    _, doc = scan(capsys)
    assert "AV301" not in failing(doc)
    config.write_text('skip = ["AV303"]\n', encoding="utf-8")
    _, doc = scan(capsys)
    assert "AV303" not in failing(doc) and "AV301" in failing(doc)


def test_dedicated_file_wins_over_pyproject_in_the_same_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.aurora-validate]\nruleset = "bedrock-kb"\n', encoding="utf-8")
    (project / ".aurora-validate.toml").write_text('skip = ["AV401"]\n', encoding="utf-8")
    _, doc = scan(capsys)
    assert doc["profile"] == "default" and "AV401" not in failing(doc)


def test_var_files_are_relative_to_the_configuration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "env").mkdir()
    (project / "env" / "bad.tfvars").write_text('project_prefix = "Bad_Prefix"\n', encoding="utf-8")
    (project / ".aurora-validate.toml").write_text('var-files = ["env/bad.tfvars"]\n', encoding="utf-8")
    code, doc = scan(capsys)
    assert failing(doc).get("AV108") == "error"
    assert code == 1


def test_command_line_options_win(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "env").mkdir()
    (project / "env" / "bad.tfvars").write_text('project_prefix = "Bad_Prefix"\n', encoding="utf-8")
    (project / "env" / "good.tfvars").write_text('project_prefix = "good"\n', encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.aurora-validate]\nruleset = "bedrock-kb"\nfail-on = "info"\nskip = ["AV301"]\n'
        'var-files = ["env/bad.tfvars"]\n',
        encoding="utf-8",
    )
    code, doc = scan(
        capsys, "--ruleset", "default", "--fail-on", "error", "--skip", "AV401", "--var-file", "env/good.tfvars"
    )
    assert doc["profile"] == "default"
    assert "AV301" in failing(doc) and "AV401" not in failing(doc)
    assert "AV108" not in failing(doc)
    assert code == 0


def test_configuration_in_the_scanned_root_is_found(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "terraform" / ".aurora-validate.toml").write_text('fail-on = "info"\n', encoding="utf-8")
    code, _ = scan(capsys)
    assert code == 1


def test_baseline_from_configuration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["terraform", "--write-baseline", "accepted.json"]) == 0
    capsys.readouterr()
    (project / ".aurora-validate.toml").write_text('baseline = "accepted.json"\nfail-on = "info"\n', encoding="utf-8")
    code, doc = scan(capsys)
    assert code == 0
    assert doc["suppressed_by"] == {"baseline": 8}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('rulset = "bedrock-kb"\n', "unknown key(s) in [tool.aurora-validate]: rulset"),
        ('ruleset = "bedrock-kb"\nruleset = "x"\n', "cannot read configuration"),
        ('ruleset = "prod"\n', "ruleset must be one of default, bedrock-kb, not 'prod'"),
        ('profile = "bedrock-kb"\n', "profile is now ruleset (write ruleset = 'bedrock-kb')"),
        ('exclude = "legacy"\n', "exclude must be a list of strings"),
    ],
)
def test_bad_configuration_is_a_one_line_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    (project / ".aurora-validate.toml").write_text(content, encoding="utf-8")
    code = main(["terraform"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('fail-on = "bogus"', "fail-on"),
        ('format = "xml"', "format"),
        ("baseline = 3", "baseline"),
        ("skip = [1]", "skip"),
        ('skip = "AV402"', "skip"),
        ('var-files = "dev.tfvars"', "var-files"),
        ('select = ["AV999"]', "AV999"),
    ],
)
def test_bad_configuration_values_are_one_line_errors(
    project: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    (project / ".aurora-validate.toml").write_text(f"[tool.aurora-validate]\n{line}\n", encoding="utf-8")
    code = main(["terraform"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert expected in err and ".aurora-validate.toml" in err
