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


def test_another_tools_pyproject_is_not_parsed(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyproject.toml that never names aurora-validate is not read as TOML: broken or not, it is not ours."""
    import tomllib

    parsed: list[str] = []
    real = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: parsed.append(text) or real(text))
    (project / "pyproject.toml").write_text("[tool.ruff\nline-length = 120\n", encoding="utf-8")  # broken TOML
    code, doc = scan(capsys)
    assert code == 0 and doc["profile"] == "default" and parsed == []
    # Naming the tool makes it a configuration, checked as one.
    (project / "pyproject.toml").write_text("[tool.aurora-validate\nruleset = 1\n", encoding="utf-8")
    assert main(["terraform", "--format", "json"]) == 2
    assert "cannot read configuration" in capsys.readouterr().err and parsed


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
    _, plain = scan(capsys)
    reported = [f for f in plain["findings"] if f["status"] != "pass"]
    assert reported
    assert main(["terraform", "--write-baseline", "accepted.json"]) == 0
    capsys.readouterr()
    (project / ".aurora-validate.toml").write_text('baseline = "accepted.json"\nfail-on = "info"\n', encoding="utf-8")
    code, doc = scan(capsys)
    assert code == 0
    assert doc["suppressed_by"] == {"baseline": len(reported)}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('rulset = "bedrock-kb"\n', "unknown key(s) in [tool.aurora-validate]: rulset"),
        ('ruleset = "bedrock-kb"\nruleset = "x"\n', "cannot read configuration"),
        ('ruleset = "prod"\n', "ruleset must be one of default, bedrock-kb, not 'prod'"),
        ('profile = "bedrock-kb"\n', "profile is now ruleset (write ruleset = 'bedrock-kb')"),
        ('profile = "prod"\n', "profile is now ruleset (ruleset is one of default, bedrock-kb)"),
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


# --------------------------------------------------------------------------- #
# Where the configuration is looked up


@pytest.fixture()
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """repo/ (a git work tree) with infra/app/ inside it; the current directory is elsewhere."""
    repo = tmp_path / "repo"
    shutil.copytree(REFERENCE, repo / "infra" / "app")
    (repo / ".git").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return repo


def scan_path(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (json.loads(out) if out else {}), err


def test_configuration_is_found_up_to_the_repository_root(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repository / ".aurora-validate.toml").write_text('ruleset = "bedrock-kb"\n', encoding="utf-8")
    code, doc, _ = scan_path(capsys, str(repository / "infra" / "app"))
    assert doc["profile"] == "bedrock-kb" and code == 1


def test_configuration_above_the_repository_root_is_not_used(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repository.parent / ".aurora-validate.toml").write_text('ruleset = "bedrock-kb"\n', encoding="utf-8")
    code, doc, _ = scan_path(capsys, str(repository / "infra" / "app"))
    assert doc["profile"] == "default" and code == 0


def test_the_nearest_configuration_wins(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repository / "pyproject.toml").write_text('[tool.aurora-validate]\nruleset = "bedrock-kb"\n', encoding="utf-8")
    (repository / "infra" / ".aurora-validate.toml").write_text('skip = ["AV301"]\n', encoding="utf-8")
    _, doc, _ = scan_path(capsys, str(repository / "infra" / "app"))
    assert doc["profile"] == "default" and "AV301" not in failing(doc)


def test_config_names_one_file_explicitly(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repository / ".aurora-validate.toml").write_text('ruleset = "bedrock-kb"\n', encoding="utf-8")
    chosen = repository.parent / "ci.toml"
    chosen.write_text('skip = ["AV303"]\nfail-on = "warning"\n', encoding="utf-8")
    code, doc, _ = scan_path(capsys, str(repository / "infra" / "app"), "--config", str(chosen))
    assert doc["profile"] == "default" and "AV303" not in failing(doc) and code == 1
    pyproject = repository.parent / "pyproject.toml"
    pyproject.write_text('[tool.aurora-validate]\nruleset = "bedrock-kb"\n', encoding="utf-8")
    _, doc, _ = scan_path(capsys, str(repository / "infra" / "app"), "--config", str(pyproject))
    assert doc["profile"] == "bedrock-kb"


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (None, "missing.toml", "--config {path}: no such file"),
        ('[project]\nname = "x"\n', "pyproject.toml", "--config {path}: no [tool.aurora-validate] table"),
        ('rulset = "x"\n', "ci.toml", "{path}: unknown key(s) in [tool.aurora-validate]: rulset"),
    ],
)
def test_bad_config_files_are_one_line_errors(
    repository: Path, capsys: pytest.CaptureFixture[str], content: str | None, name: str, expected: str
) -> None:
    path = repository.parent / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _doc, err = scan_path(capsys, str(repository / "infra" / "app"), "--config", str(path))
    assert code == 2 and err == f"aurora-validate: error: {expected.format(path=path)}\n"


def test_paths_with_different_configurations_are_an_error(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REFERENCE, repository / "infra" / "other")
    (repository / "infra" / "other" / ".aurora-validate.toml").write_text('skip = ["AV301"]\n', encoding="utf-8")
    code, _doc, err = scan_path(capsys, str(repository / "infra" / "app"), str(repository / "infra" / "other"))
    assert code == 2 and "different configuration files" in err and "--config" in err
    empty = repository / "empty.toml"
    empty.write_text("", encoding="utf-8")
    code, _doc, err = scan_path(
        capsys, str(repository / "infra" / "app"), str(repository / "infra" / "other"), "--config", str(empty)
    )
    assert code == 0, err
