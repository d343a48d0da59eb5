"""``aurora-validate demo`` when it cannot run: one line, exit 2 (the full run is in test_live_terraform)."""

from __future__ import annotations

import pytest

from validator.cli import main
from validator.sources.terraform import runner as terraform_runner


def _one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_demo_without_terraform(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no terraform binary there
    assert main(["demo"]) == 2
    assert "terraform is not installed" in _one_line(capsys)


@pytest.mark.skipif(bool(terraform_runner.missing_reason()), reason=terraform_runner.missing_reason() or "-")
def test_demo_with_a_missing_configuration(capsys, tmp_path):
    assert main(["demo", "--terraform-dir", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in _one_line(capsys)


def test_endpoint_override_sends_every_service_to_the_local_api(tmp_path):
    path = terraform_runner.write_endpoint_override(tmp_path, "http://127.0.0.1:5000")
    text = path.read_text(encoding="utf-8")
    for service in ("rds", "ec2", "sts", "iam", "secretsmanager"):
        assert f'{service.ljust(14)} = "http://127.0.0.1:5000"' in text
    assert "skip_credentials_validation = true" in text
    env = terraform_runner.environment("eu-west-1")
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["HTTPS_PROXY"] == terraform_runner.DEAD_PROXY
    assert "127.0.0.1" in env["NO_PROXY"]


@pytest.mark.parametrize("value", ["[1]", '{"16.6": 3}', "not json"])
def test_serve_with_malformed_engine_versions(capsys, value):
    assert main(["demo", "--serve", "--engine-versions", value]) == 2
    assert "--engine-versions is not a JSON object" in _one_line(capsys)
