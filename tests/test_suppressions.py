"""Inline suppressions: where a comment may stand, what it needs, and what AV001 reports."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
INSTANCE = "module.aurora.aws_rds_cluster_instance.aurora_instance"
CLUSTER = "module.aurora.aws_rds_cluster.aurora_cluster"


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REFERENCE, tmp_path / "terraform")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "terraform"


def aurora(root: Path) -> Path:
    return root / "modules" / "aurora" / "aurora.tf"


def edit_line(path: Path, needle: str, new: str) -> int:
    """Replace the one line holding ``needle``; returns its number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, text in enumerate(lines) if needle in text]
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def insert_after(path: Path, needle: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, text in enumerate(lines) if needle in text]
    lines.insert(index + 1, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def scan(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["terraform", "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def active(doc: dict, rule_id: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule_id"] == rule_id and f["status"] != "pass"]


def suppressed(doc: dict, rule_id: str) -> list[dict]:
    return [f for f in doc["suppressed"] if f["rule_id"] == rule_id]


def test_without_comment_the_finding_is_active(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = scan(capsys)
    assert [f["resource"] for f in active(doc, "AV303")] == [INSTANCE]
    assert doc["suppressed"] == []


def test_on_the_attribute_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = edit_line(
        aurora(root),
        "publicly_accessible = true",
        "  publicly_accessible = true # aurora-validate:ignore=AV303 lab account, no data",
    )
    _, doc = scan(capsys)
    assert active(doc, "AV303") == []
    (hidden,) = suppressed(doc, "AV303")
    assert hidden["suppressed_by"] == f"inline (modules/aurora/aurora.tf:{line}): lab account, no data"
    assert doc["suppressed_by"] == {"inline": 1}
    assert doc["summary"]["suppressed"] == 1


def test_on_the_resource_block_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_line(
        aurora(root),
        'resource "aws_rds_cluster_instance"',
        'resource "aws_rds_cluster_instance" "aurora_instance" { # aurora-validate:ignore=AV303 lab account',
    )
    _, doc = scan(capsys)
    assert active(doc, "AV303") == [] and len(suppressed(doc, "AV303")) == 1


def test_on_the_line_above_the_block(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_line(aurora(root), "# Auroraインスタンス", "// aurora-validate:ignore=AV303 lab account")
    _, doc = scan(capsys)
    assert active(doc, "AV303") == [] and len(suppressed(doc, "AV303")) == 1


def test_inside_the_block_on_its_own_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    insert_after(
        aurora(root), 'engine              = "aurora-postgresql"', "  # aurora-validate:ignore=AV303 lab account"
    )
    _, doc = scan(capsys)
    assert active(doc, "AV303") == [] and len(suppressed(doc, "AV303")) == 1


def test_a_comment_in_another_block_suppresses_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The cluster's block ends well before the instance's: AV303 is about the instance.
    insert_after(aurora(root), 'engine_version    = "16.4"', "  # aurora-validate:ignore=AV303 wrong block")
    _, doc = scan(capsys)
    assert [f["resource"] for f in active(doc, "AV303")] == [INSTANCE]
    assert suppressed(doc, "AV303") == []


def test_several_rules_in_one_comment(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    insert_after(
        aurora(root),
        'engine_version    = "16.4"',
        "  # aurora-validate:ignore=AV201,AV202 this cluster does not serve a knowledge base",
    )
    _, doc = scan(capsys, "--fail-on", "warning")
    assert active(doc, "AV201") == [] and active(doc, "AV202") == []
    assert {f["rule_id"] for f in doc["suppressed"]} == {"AV201", "AV202"}
    assert doc["suppressed_by"] == {"inline": 2}


def test_on_the_line_above_a_variable_default(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # AV302 points at the default of var.aurora_root_password in the root module's variables.tf.
    variables = root / "variables.tf"
    lines = variables.read_text(encoding="utf-8").splitlines()
    start = next(n for n, text in enumerate(lines) if 'variable "aurora_root_password"' in text)
    default = next(n for n in range(start, len(lines)) if lines[n].strip().startswith("default"))
    lines.insert(default, "  # aurora-validate:ignore=AV302 throwaway password of a local demo")
    variables.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, doc = scan(capsys)
    assert active(doc, "AV302") == []
    (hidden,) = suppressed(doc, "AV302")
    assert hidden["suppressed_by"] == f"inline (variables.tf:{default + 1}): throwaway password of a local demo"


def test_a_suppression_without_reason_is_av001_and_suppresses_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit_line(
        aurora(root), "publicly_accessible = true", "  publicly_accessible = true # aurora-validate:ignore=AV303"
    )
    code, doc = scan(capsys, "--fail-on", "warning")
    assert code == 1
    assert [f["resource"] for f in active(doc, "AV303")] == [INSTANCE]
    (av001,) = active(doc, "AV001")
    assert av001["severity"] == "warning"
    assert "gives no reason" in av001["message"]
    assert av001["location"] == {"file": "modules/aurora/aurora.tf", "line": line}
    assert doc["suppressed"] == []


def test_an_unknown_rule_id_is_av001(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_line(
        aurora(root),
        "publicly_accessible = true",
        "  publicly_accessible = true # aurora-validate:ignore=AV330 typo of AV303",
    )
    _, doc = scan(capsys)
    (av001,) = active(doc, "AV001")
    assert "unknown rule AV330" in av001["message"]
    assert [f["resource"] for f in active(doc, "AV303")] == [INSTANCE]


def test_av001_itself_cannot_be_suppressed(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_line(
        aurora(root),
        "publicly_accessible = true",
        "  publicly_accessible = true # aurora-validate:ignore=AV001,AV303",
    )
    _, doc = scan(capsys)
    messages = sorted(f["message"] for f in active(doc, "AV001"))
    assert len(messages) == 2
    assert any("unknown rule AV001" in m for m in messages)
    assert any("gives no reason" in m for m in messages)


def test_a_passed_check_is_not_counted_as_suppressed(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # AV106 passes on the cluster: a suppression of it hides nothing.
    insert_after(aurora(root), 'engine_version    = "16.4"', "  # aurora-validate:ignore=AV106 not needed")
    _, doc = scan(capsys, "--show-passed")
    assert doc["summary"]["suppressed"] == 0
    assert [f["status"] for f in doc["findings"] if f["rule_id"] == "AV106"] == ["pass"]
    assert doc["findings"] and all(f["resource"] for f in doc["findings"])
    assert any(f["rule_id"] == "AV001" and f["status"] == "pass" for f in doc["findings"])
    assert CLUSTER in {f["resource"] for f in doc["findings"] if f["rule_id"] == "AV106"}


def test_text_report_says_what_suppressed(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["terraform"])
    counts = re.match(
        r"(\d+) error\(s\), (\d+) warning\(s\), (\d+) note\(s\), (\d+) unresolved, (\d+) passed",
        capsys.readouterr().out.splitlines()[-1],
    )
    assert counts, "the summary line of the same scan without suppressions"
    errors, warnings, notes, unresolved, passed = (int(n) for n in counts.groups())
    edit_line(
        aurora(root), "publicly_accessible = true", "  publicly_accessible = true # aurora-validate:ignore=AV303 lab"
    )
    main(["terraform", "--write-baseline", "b.json", "--select", "AV301"])
    capsys.readouterr()
    main(["terraform", "--baseline", "b.json"])
    out = capsys.readouterr().out
    # AV301 (baseline) and AV303 (inline) are warnings; the suppression comment itself passes AV001.
    assert out.splitlines()[-1].startswith(
        f"{errors} error(s), {warnings - 2} warning(s), {notes} note(s), {unresolved} unresolved, "
        f"{passed + 1} passed, 2 suppressed"
    )
    assert "2 suppressed (1 baseline, 1 inline)" in out
