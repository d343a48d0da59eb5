"""AV002 and --fail-on-unresolved: a module the scan cannot read is reported, never a silent pass."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from rulekit import FIXTURES, describe, of_rule, scan

from validator.cli import main
from validator.rules import Status

CLUSTER = """
resource "aws_rds_cluster" "kb" {
  cluster_identifier          = "kb-store"
  engine                      = "aurora-postgresql"
  engine_version              = "16.6"
  manage_master_user_password = true
}
"""
# A root whose only cluster is inside a registry module.
ROOT = """
module "db" {
  source  = "example-org/aurora/aws"
  version = "1.2.0"
}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def install(root: Path) -> None:
    """What terraform init leaves behind for ROOT's module."""
    write(root, {
        ".terraform/modules/db/main.tf": CLUSTER,
        ".terraform/modules/modules.json": json.dumps({"Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {"Key": "db", "Source": "registry.terraform.io/example-org/aurora/aws", "Version": "1.2.0",
             "Dir": ".terraform/modules/db"},
        ]}),
    })


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def av002(report: dict) -> list[dict]:
    return [f for f in report.get("findings", []) if f["rule_id"] == "AV002"]


def test_uninstalled_registry_module_is_unresolved_not_a_silent_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"main.tf": ROOT})
    code, report = run(capsys, str(tmp_path))
    assert code == 0  # unresolved does not fail by default
    [finding] = av002(report)
    assert finding["status"] == "unresolved"
    assert finding["resource"] == "module.db"
    assert finding["location"] == {"file": "main.tf", "line": 1}
    message = finding["message"]
    assert "'example-org/aurora/aws'" in message and "version '1.2.0'" in message
    assert "terraform init -backend=false" in message and "--plan" in message
    assert report["summary"]["unresolved"] == 1


def test_fail_on_unresolved_makes_the_exit_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"main.tf": ROOT})
    code, _ = run(capsys, str(tmp_path), "--fail-on-unresolved")
    assert code == 1


def test_configuration_key_fail_on_unresolved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"main.tf": ROOT, ".aurora-validate.toml": "fail-on-unresolved = true\n"})
    assert run(capsys, str(tmp_path))[0] == 1
    write(tmp_path, {".aurora-validate.toml": "[tool.aurora-validate]\nfail-on-unresolved = false\n"})
    assert run(capsys, str(tmp_path))[0] == 0
    assert run(capsys, str(tmp_path), "--fail-on-unresolved")[0] == 1  # the command line wins


def test_configuration_key_must_be_a_boolean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"main.tf": ROOT, ".aurora-validate.toml": 'fail-on-unresolved = "yes"\n'})
    code = main([str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "fail-on-unresolved must be true or false" in err and "Traceback" not in err


def test_fail_on_unresolved_passes_a_fully_checked_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    base = FIXTURES / "AV101" / "pass" / "aurora_postgresql.tf"
    code, report = run(capsys, str(base), "--fail-on-unresolved")
    assert report["summary"]["unresolved"] == 0
    assert code == 0


def test_installed_module_is_read_and_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"main.tf": ROOT})
    install(tmp_path)
    _, report = run(capsys, str(tmp_path), "--show-passed")
    [finding] = av002(report)
    assert finding["status"] == "pass"
    assert "read from .terraform/modules/db" in finding["message"]
    clusters = {f["resource"] for f in report["findings"] if f["rule_id"] == "AV101"}
    assert clusters == {"module.db.aws_rds_cluster.kb"}  # the module's cluster is checked


def test_missing_local_module_stays_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"main.tf": 'module "db" {\n  source = "./modules/nowhere"\n}\n'})
    code, report = run(capsys, str(tmp_path))
    assert code == 2
    assert not av002(report)  # the input error says it; AV002 does not repeat it
    assert "is not a directory" in capsys.readouterr().err + json.dumps(report)


def test_local_module_gives_no_av002_finding() -> None:
    findings = of_rule(scan(FIXTURES.parents[1] / "fixtures" / "article_as_published"), "AV002")
    assert findings == [], describe(findings)


def test_nested_uninstalled_module_is_reported_once_per_call(tmp_path: Path) -> None:
    """A call inside a local module with for_each is one block: one finding, at its line."""
    write(tmp_path, {
        "main.tf": 'module "app" {\n  source   = "./app"\n  for_each = toset(["a", "b"])\n}\n',
        "app/main.tf": 'module "db" {\n  source = "git::https://example.com/aurora.git"\n}\n',
    })
    findings = of_rule(scan(tmp_path), "AV002")
    assert [(f.status, f.result.location.file, f.result.location.line) for f in findings] == [
        (Status.UNRESOLVED, "app/main.tf", 1)
    ], describe(findings)
    assert findings[0].result.resource.startswith('module.app["a"].module.db')


def test_a_registry_module_inside_a_for_each_module_is_found_installed(tmp_path: Path) -> None:
    """terraform init installs per call, not per instance: the manifest's key is app.db for every app[*]."""
    write(tmp_path, {
        "main.tf": 'module "app" {\n  source   = "./app"\n  for_each = toset(["a", "b"])\n}\n',
        "app/main.tf": ROOT,
        ".terraform/modules/app.db/main.tf": CLUSTER,
        ".terraform/modules/modules.json": json.dumps({"Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {"Key": "app", "Source": "./app", "Dir": "app"},
            {"Key": "app.db", "Source": "registry.terraform.io/example-org/aurora/aws", "Version": "1.2.0",
             "Dir": ".terraform/modules/app.db"},
        ]}),
    })
    findings = of_rule(scan(tmp_path), "AV002")
    assert [f.status for f in findings] == [Status.PASS], describe(findings)  # one block, one finding
    clusters = {f.result.resource for f in of_rule(scan(tmp_path), "AV101")}
    assert clusters == {'module.app["a"].module.db.aws_rds_cluster.kb', 'module.app["b"].module.db.aws_rds_cluster.kb'}


def test_a_suppressed_unread_module_does_not_fail_a_strict_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"main.tf": "# aurora-validate:ignore=AV002 checked in its own repository\n" + ROOT.lstrip()})
    code, report = run(capsys, str(tmp_path), "--fail-on-unresolved")
    assert code == 0
    assert not av002(report)
    assert [f["rule_id"] for f in report["suppressed"]] == ["AV002"]
