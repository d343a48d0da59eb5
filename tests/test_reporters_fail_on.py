"""--fail-on: the exit code of the gate at each level, in every output format."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import reporters
from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"
FORMATS = tuple(reporters.FORMATS)  # every registered format, a new one included


def exit_code(capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    code = main(list(argv))
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return code


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("level", "expected"), [("error", 0), ("warning", 1), ("info", 1)])
def test_reference_levels(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str, level: str, expected: int
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")  # ASFF names the account whose Security Hub imports
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # The reference fails warnings (AV301-AV303) and notes (AV401-AV403) but no error: the gate on those.
    argv = [str(REFERENCE), "--select", "AV301,AV302,AV303,AV401,AV402,AV403", "--format", fmt, "--fail-on", level]
    assert exit_code(capsys, *argv) == expected


@pytest.mark.parametrize(("level", "expected"), [("error", 0), ("warning", 0), ("info", 1)])
def test_only_notes_fail_only_at_info(capsys: pytest.CaptureFixture[str], level: str, expected: int) -> None:
    argv = [str(REFERENCE), "--select", "AV401,AV402,AV403", "--fail-on", level]
    assert exit_code(capsys, *argv) == expected


def test_default_level_is_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(capsys, str(REFERENCE)) == 0
    assert exit_code(capsys, str(ARTICLE)) == 1  # AV108: invalid identifiers


def test_bedrock_profile_raises_readiness_rules_to_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(capsys, str(REFERENCE), "--ruleset", "bedrock-kb", "--fail-on", "error") == 1
    assert exit_code(capsys, str(REFERENCE), "--ruleset", "bedrock-kb", "--skip", "AV201,AV202") == 0


def test_input_error_wins_over_failures(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(capsys, str(ARTICLE), "missing-dir", "--format", "sarif") == 2


def test_unknown_level_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(REFERENCE), "--fail-on", "critical"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
