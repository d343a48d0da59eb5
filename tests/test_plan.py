"""``aurora-validate --plan``: bad input is one line and exit 2; documents are checked before use.

The plan's content is tested on real terraform plans in test_plan_equivalence.py.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from validator.cli import main
from validator.errors import InputError
from validator.sources.terraform.plan import check_document, read_plan

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _binary_plan(tmp_path: Path) -> Path:
    path = tmp_path / "tfplan"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("tfplan", b"\x00\x01")
    return path


PLAN_OK = {"format_version": "1.2", "planned_values": {}, "resource_changes": [], "configuration": {}}
CHANGE = {"address": "aws_rds_cluster.kb", "mode": "managed", "type": "aws_rds_cluster", "name": "kb"}

BAD_INPUTS = {
    "missing": (None, "plan file not found"),
    "not-json": ('resource "aws_rds_cluster" "x" {}\n', "not JSON"),
    "array": ("[1, 2]", "not an object"),
    "no-format-version": (json.dumps({"planned_values": {}}), "no format_version"),
    "format-version-2": (json.dumps({**PLAN_OK, "format_version": "2.0"}), "unsupported format_version '2.0'"),
    "state": (json.dumps({"format_version": "1.0", "values": {}}), "this is a Terraform state"),
    "no-configuration": (json.dumps({"format_version": "1.2", "planned_values": {}}), "no configuration section"),
    "changes-not-a-list": (json.dumps({**PLAN_OK, "resource_changes": {}}), "resource_changes is not a list"),
    "change-not-an-object": (
        json.dumps({**PLAN_OK, "resource_changes": [{**CHANGE, "change": "create"}]}),
        "resource_changes[0].change is not an object",
    ),
    "after-unknown-not-an-object": (
        json.dumps(
            {
                **PLAN_OK,
                "resource_changes": [{**CHANGE, "change": {"actions": ["create"], "after": {}, "after_unknown": "x"}}],
            }
        ),
        "resource_changes[0].change.after_unknown is not an object",
    ),
    "planned-values-not-an-object": (
        json.dumps({**PLAN_OK, "planned_values": "none"}),
        "planned_values is not an object",
    ),
    "child-modules-not-a-list": (
        json.dumps({**PLAN_OK, "planned_values": {"root_module": {"child_modules": "module.aurora"}}}),
        "planned_values root_module.child_modules is not a list of objects",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_plan_input_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expected = BAD_INPUTS[case]
    path = tmp_path / "plan.json" if content is None else _write(tmp_path, "plan.json", content)
    code = main(["--plan", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_binary_plan_says_how_to_convert_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--plan", str(_binary_plan(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2
    assert "terraform show -json" in err and len(err.strip().splitlines()) == 1


def test_a_directory_is_not_a_plan(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_plan(tmp_path)


def test_an_empty_plan_is_read(tmp_path: Path) -> None:
    doc = read_plan(_write(tmp_path, "plan.json", json.dumps(PLAN_OK)))
    assert doc["format_version"] == "1.2"


def test_every_1x_format_version_is_accepted() -> None:
    for version in ("1.0", "1.1", "1.2", "1.9"):
        check_document({**PLAN_OK, "format_version": version}, "p")
    with pytest.raises(InputError):
        check_document({**PLAN_OK, "format_version": "0.1"}, "p")


def test_plan_takes_one_configuration_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _write(tmp_path, "plan.json", json.dumps(PLAN_OK))
    code = main(["--plan", str(plan), str(REPO / "reference" / "terraform"), str(REPO / "reference" / "terraform")])
    err = capsys.readouterr().err
    assert code == 2 and "one directory at most" in err


def test_the_configuration_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _write(tmp_path, "plan.json", json.dumps(PLAN_OK))
    code = main(["--plan", str(plan), str(plan)])
    err = capsys.readouterr().err
    assert code == 2 and "root module directory" in err and "Traceback" not in err


def test_configuration_errors_name_the_file_from_the_current_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _write(tmp_path, "plan.json", json.dumps(PLAN_OK))
    config = tmp_path / "infra"
    config.mkdir()
    _write(config, "main.tf", 'resource "aws_rds_cluster" "x" {\n')
    code = main(["--plan", str(plan), str(config), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{config.as_posix()}/main.tf:" in err and "parse error" in err
    assert json.loads(out)["errors"][0]["where"].startswith(f"{config.as_posix()}/main.tf:")


def test_a_configuration_without_tf_files_still_reports_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _write(tmp_path, "plan.json", json.dumps(PLAN_OK))
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["--plan", str(plan), str(empty), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "no .tf files" in err and err.count("\n") == 1
    report = json.loads(out)
    assert [e["message"] for e in report["errors"]] == ["no .tf files in this directory"]
