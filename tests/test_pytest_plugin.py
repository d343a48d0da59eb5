"""The pytest plugin: a team's own project needs only a .feature file and a one-line test module.

The scratch project runs in a separate pytest process, so the plugin is found
through its ``pytest11`` entry point exactly as in a team's repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from validator.pytest_plugin import (
    ConfigurationError,
    Run,
    TerraformCopy,
    run_cli,
    select,
)
from validator.pytest_plugin.text import HclText
from validator.sources.terraform.hcl import syntax as s

REPO = Path(__file__).resolve().parents[1]
WRONG_EXPECTATION = """\
Feature: A wrong expectation
  Scenario: A wrong expectation fails with the findings in the message
    Given the Terraform configuration "../infra"
    When I validate it
    Then rule AV303 passes
"""


def readme_example() -> tuple[str, str]:
    """The one-line test module and the .feature file the README shows."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, re.DOTALL)
    module = next(body for lang, body in blocks if lang == "python" and "# tests/test_cluster.py" in body)
    feature = next(body for lang, body in blocks if lang == "gherkin" and "# tests/cluster.feature" in body)
    strip = lambda body: "".join(line for line in body.splitlines(True) if not line.startswith("# tests/"))  # noqa: E731
    return strip(module), strip(feature)


def _scratch_project(tmp_path: Path) -> Path:
    module, feature = readme_example()
    project = tmp_path / "team"
    TerraformCopy(REPO / "reference" / "terraform", project / "infra")
    tests = project / "tests"
    tests.mkdir()
    (tests / "cluster.feature").write_text(feature, encoding="utf-8")
    (tests / "wrong.feature").write_text(WRONG_EXPECTATION, encoding="utf-8")
    (tests / "test_cluster.py").write_text(module, encoding="utf-8")
    return project


def test_the_readme_example_works_in_a_team_project(tmp_path: Path) -> None:
    """A .feature file and a one-line test module, found through the plugin's entry point."""
    project = _scratch_project(tmp_path)
    assert len((project / "tests" / "test_cluster.py").read_text().strip().splitlines()) == 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(project), "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert "2 passed" in out and "1 failed" in out, out
    assert "PytestAssertRewriteWarning" not in out, "pytest imports the steps module itself: its asserts are rewritten"
    assert proc.returncode == 1, out
    # The failure names what was expected and lists what the validator found.
    assert "expected AV303 passes" in out, out
    assert "AV303 fail warning modules/aurora/aurora.tf:" in out, out
    # The team's configuration was never touched: every change went to a copy.
    original = (REPO / "reference" / "terraform" / "modules" / "aurora" / "aurora.tf").read_text()
    assert (project / "infra" / "modules" / "aurora" / "aurora.tf").read_text() == original


def test_the_plugin_loads_without_pytest_bdd() -> None:
    code = (
        "import sys; sys.modules['pytest_bdd'] = None\n"
        "import validator.pytest_plugin as p\n"
        "assert p.given is None and callable(p.run_cli)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_loading_the_plugin_leaves_the_hcl_reader_unloaded() -> None:
    """pytest loads the plugin in every session: the syntax tree's modules load with the first copy."""
    code = (
        "import sys\n"
        "import validator.pytest_plugin, validator.pytest_plugin.steps\n"
        "assert not {'validator.sources.terraform.hcl', 'lark', 'validator.cli'} & set(sys.modules)\n"
        "validator.pytest_plugin.TerraformCopy\n"
        "assert 'validator.sources.terraform.hcl.syntax' in sys.modules\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


# --------------------------------------------------------------------------- #
# Editing HCL text


def test_extents_ignore_brackets_in_strings_comments_and_heredocs(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        resource "a" "b" {
          name = "${var.x}-{not a block}" # { comment
          /* { block comment
             } */
          policy = <<EOF
        { "Statement": [ {
        EOF
          tags = {
            k = "v"
          }
        }
        """
    )
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    hcl = HclText(path, "main.tf")
    (block,) = hcl.items()
    extent = hcl.extent(block)
    assert (block.type, block.labels, extent.start.line, extent.end.line) == ("resource", ("a", "b"), 1, 11)
    lines = {item.name: (hcl.extent(item).start.line, hcl.extent(item).end.line) for item in hcl.items(block)}
    assert lines == {"name": (2, 2), "policy": (5, 7), "tags": (8, 10)}
    assert hcl.find_lines("k", block) == [9]


def _copy(tmp_path: Path, name: str = "terraform") -> TerraformCopy:
    return TerraformCopy(REPO / "reference" / name, tmp_path / name)


def test_setting_keeps_alignment_and_other_lines(tmp_path: Path) -> None:
    c = _copy(tmp_path)
    file = c.root / "modules" / "aurora" / "aurora.tf"
    before = file.read_text().splitlines()
    c.set(c.find("aurora cluster"), "engine_mode", '"serverless"')
    after = file.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [(before[23], '  engine_mode       = "serverless"')]


def test_nested_blocks_are_created_and_removed(tmp_path: Path) -> None:
    c = _copy(tmp_path)
    cluster = c.find("the aurora cluster")
    c.remove(cluster, "serverlessv2_scaling_configuration")
    assert "serverlessv2_scaling_configuration" not in (c.root / "modules/aurora/aurora.tf").read_text()
    c.set(cluster, "serverlessv2_scaling_configuration.max_capacity", "8")
    assert c.line_of("modules/aurora/aurora.tf", "max_capacity", cluster)
    c.set(cluster, "serverlessv2_scaling_configuration.min_capacity", "0")
    text = (c.root / "modules/aurora/aurora.tf").read_text()
    assert text.count("serverlessv2_scaling_configuration") == 1
    assert "min_capacity = 0" in text and "max_capacity = 8" in text


def test_targets_are_named_as_a_user_would(tmp_path: Path) -> None:
    c = _copy(tmp_path, "terraform-bedrock")
    assert c.find("the database security group").labels == ("aws_security_group", "db")
    assert c.find('the security group "app"').labels == ("aws_security_group", "app")
    assert c.find("the writer instance").labels == ("aws_rds_cluster_instance", "writer")
    assert c.find('aws_subnet "private_b"').labels == ("aws_subnet", "private_b")
    with pytest.raises(ConfigurationError, match="ambiguous"):
        c.find("the subnet")
    with pytest.raises(ConfigurationError, match="unknown resource"):
        c.find("the flux capacitor")
    with pytest.raises(ConfigurationError, match="does not set"):
        c.remove(c.find("the aurora cluster"), "no_such_argument")


def test_outcomes_follow_the_documented_meaning() -> None:
    def finding(status: str, resource: str = "r1", line: int = 3) -> dict[str, object]:
        return {
            "rule_id": "AV108",
            "status": status,
            "severity": "error",
            "resource": resource,
            "message": "m",
            "location": {"file": "main.tf", "line": line},
        }

    report = {"findings": [finding("pass"), finding("fail", "r2", 7), finding("unresolved", "r3")]}
    run = Run([], 1, json.loads(json.dumps(report)), "", "")
    assert select(run, "AV108", "fails")
    assert not select(run, "AV108", "passes"), "a rule with a failure does not pass"
    assert select(run, "AV108", "passes", resource="r1")
    assert select(run, "AV108", "is unresolved", resource="r3")
    assert select(run, "AV108", "fails", file="main.tf", lines=[7])
    assert not select(run, "AV108", "fails", lines=[3])
    assert not select(run, "AV108", "fails", severity="warning")


# --------------------------------------------------------------------------- #
# Styles a bracket scanner got wrong: the edits read the syntax tree instead


def _config(tmp_path: Path, text: str, newline: str = "\n", bom: bool = False) -> TerraformCopy:
    source = tmp_path / "source"
    source.mkdir()
    data = ("\ufeff" if bom else "") + textwrap.dedent(text).replace("\n", newline)
    (source / "main.tf").write_bytes(data.encode("utf-8"))
    return TerraformCopy(source, tmp_path / "copy")


def _text(c: TerraformCopy) -> str:
    return (c.root / "main.tf").read_bytes().decode("utf-8")


def _parses(c: TerraformCopy) -> s.Body:
    return s.parse_text(_text(c), c.root / "main.tf", "main.tf").body


HEREDOC_POLICY = """\
    resource "aws_iam_role" "kb" {
      name = "kb"
      assume_role_policy = <<EOF
    {
      "Statement": [ { "Effect": "Allow", "Principal": { "Service": "bedrock.amazonaws.com" } } ]
    }
    EOF
      tags = { team = "data" }
    }
    """


def test_an_argument_written_as_a_heredoc_is_replaced_whole(tmp_path: Path) -> None:
    c = _config(tmp_path, HEREDOC_POLICY)
    c.set(c.find('aws_iam_role "kb"'), "assume_role_policy", "jsonencode({})")
    assert _text(c) == textwrap.dedent(
        """\
        resource "aws_iam_role" "kb" {
          name = "kb"
          assume_role_policy = jsonencode({})
          tags = { team = "data" }
        }
        """
    )


def test_an_argument_written_as_a_heredoc_is_removed_whole(tmp_path: Path) -> None:
    c = _config(tmp_path, HEREDOC_POLICY)
    c.remove(c.find('aws_iam_role "kb"'), "assume_role_policy")
    assert set(_parses(c).blocks[0].body.attributes) == {"name", "tags"}
    assert "Statement" not in _text(c)


COMMENTED = """\
    resource "aws_rds_cluster" "main" {
      /*
      engine_mode = "serverless"
      */
      description = <<-EOT
        engine_mode = "provisioned" is what the article chose
      EOT
      engine_mode = "provisioned"
    }
    """


def test_text_in_comments_and_heredocs_is_not_an_argument(tmp_path: Path) -> None:
    c = _config(tmp_path, COMMENTED)
    before = _text(c).splitlines()
    assert c.line_of("main.tf", "engine_mode") == [8]
    c.set(c.find("the aurora cluster"), "engine_mode", '"serverless"')
    after = _text(c).splitlines()
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        ('  engine_mode = "provisioned"', '  engine_mode = "serverless"')
    ]


def test_one_line_blocks_are_edited_in_place_or_opened_up(tmp_path: Path) -> None:
    c = _config(
        tmp_path,
        """\
        variable "min_capacity" { default = 0.5 }
        variable "name" { type = string }
        resource "aws_rds_cluster" "main" {
          timeouts { create = "2h" }
        }
        resource "aws_db_subnet_group" "main" {}
        """,
    )
    c.set(c.variable("min_capacity"), "default", "1")
    c.set(c.variable("name"), "default", '"kb"')
    c.set(c.find("the aurora cluster"), "timeouts.create", '"3h"')
    c.set(c.find("the subnet group"), "subnet_ids", "[]")
    assert _text(c) == textwrap.dedent(
        """\
        variable "min_capacity" { default = 1 }
        variable "name" {
          type = string
          default = "kb"
        }
        resource "aws_rds_cluster" "main" {
          timeouts { create = "3h" }
        }
        resource "aws_db_subnet_group" "main" {
          subnet_ids = []
        }
        """
    )
    c.remove(c.find("the aurora cluster"), "timeouts")
    c.remove(c.variable("min_capacity"), "default")
    assert _parses(c).blocks[2].body.blocks == []
    assert _text(c).startswith('variable "min_capacity" { }\n')


def test_escaped_interpolations_in_strings_open_no_bracket(tmp_path: Path) -> None:
    c = _config(
        tmp_path,
        """\
        resource "aws_rds_cluster" "main" {
          description = "a literal %%{ in a string"
        }
        resource "aws_rds_cluster_instance" "writer" {
          instance_class = "db.r6g.large"
        }
        """,
    )
    c.set(c.find("the aurora instance"), "instance_class", '"db.serverless"')
    assert _parses(c).blocks[1].body.attributes["instance_class"].expr == s.Literal(5, "db.serverless")


@pytest.mark.parametrize(("newline", "bom"), [("\r\n", False), ("\r\n", True), ("\n", True)])
def test_line_endings_and_byte_order_mark_are_kept(tmp_path: Path, newline: str, bom: bool) -> None:
    c = _config(tmp_path, COMMENTED, newline=newline, bom=bom)
    cluster = c.find("the aurora cluster")
    c.set(cluster, "engine_mode", '"serverless"')
    c.append(cluster, "# a note\nport = 5432")
    c.replace_text("main.tf", "the article chose", "the article\nchose")
    c.add_file_text("main.tf", 'output "mode" {\n  value = aws_rds_cluster.main.engine_mode\n}')
    text = _text(c)
    assert text.startswith("\ufeffresource" if bom else "resource")
    assert text.count(newline) == text.count("\n") == 16, text
    body = _parses(c).blocks[0].body
    assert body.attributes["engine_mode"].expr == s.Literal(9, "serverless")
    assert body.attributes["port"].line == 11


def test_a_file_that_does_not_parse_is_named_when_nothing_is_found(tmp_path: Path) -> None:
    c = _config(tmp_path, 'resource "aws_rds_cluster" "main" {\n  engine = "aurora-postgresql"\n}\n')
    (c.root / "broken.tf").write_text('resource "aws_rds_cluster_instance" "writer" {\n', encoding="utf-8")
    assert c.find("the aurora cluster").labels == ("aws_rds_cluster", "main")
    unread = r"\(not read: broken\.tf:\d+: unexpected end of file\)"
    with pytest.raises(ConfigurationError, match=r"no aws_rds_cluster_instance .*" + unread):
        c.find("the aurora instance")
    with pytest.raises(ConfigurationError, match=r"cannot read broken\.tf:\d+: unexpected end of file"):
        c.line_of("broken.tf", "engine")


def test_a_crlf_copy_of_the_reference_gives_the_same_report(tmp_path: Path) -> None:
    reports = []
    for name, newline in (("lf", "\n"), ("crlf", "\r\n")):
        c = TerraformCopy(REPO / "reference" / "terraform", tmp_path / name)
        for path in c.files():
            path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))
        c.set(c.find("the aurora cluster"), "engine_mode", '"serverless"')
        c.set(c.find("the aurora instance"), "instance_class", '"db.r6g.large"')
        run = run_cli([str(c.root)], tmp_path / f"reports-{name}")
        assert run.report is not None, run.describe()
        reports.append([(f["rule_id"], f["status"], (f.get("location") or {}).get("line")) for f in run.findings])
        assert select(run, "AV102", "fails", lines=c.line_of("modules/aurora/aurora.tf", "engine_mode"))
    assert reports[0] == reports[1]


REFERENCE_FILES = sorted((REPO / "reference").glob("terraform*/**/*.tf"))


def _arguments(body: s.Body, at: str = "") -> list[tuple[str, s.Attribute]]:
    """Every argument of a body, at any depth, with a key naming where it is."""
    out = [(f"{at}{name}", attr) for name, attr in body.attributes.items()]
    for i, block in enumerate(body.blocks):
        out.extend(_arguments(block.body, f"{at}{i}.{block.type}."))
    return out


def _shape(body: s.Body, without: frozenset[str] = frozenset(), at: str = "") -> object:
    """A body's blocks and argument names, without its expressions and lines."""
    names = sorted(name for name in body.attributes if f"{at}{name}" not in without)
    blocks = [(b.type, b.labels, _shape(b.body, without, f"{at}{i}.{b.type}.")) for i, b in enumerate(body.blocks)]
    return names, blocks


def _terraform_reads(text: str) -> None:
    """terraform itself parses the text (``terraform fmt -`` exits 2 on a syntax error)."""
    if shutil.which("terraform") is None:
        return
    proc = subprocess.run(["terraform", "fmt", "-no-color", "-"], input=text, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda p: p.relative_to(REPO / "reference").as_posix())
def test_every_argument_of_the_references_is_replaced_and_removed(tmp_path: Path, path: Path, newline: str) -> None:
    """Edits from the last argument up, so each one's extent is still the tree's: one parse checks them all."""
    work = tmp_path / path.name
    work.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", newline.encode()))
    original = HclText(work, path.name)
    arguments = sorted(_arguments(original.tree), key=lambda a: (a[1].line, a[1].column), reverse=True)
    assert arguments

    replaced = HclText(work, path.name)
    for key, attr in arguments:
        replaced.replace(attr, f'"{key}"')
    text = replaced.render()
    assert text.count(newline) == text.count("\n")
    tree = s.parse_text(text, work, path.name).body
    assert _shape(tree) == _shape(original.tree)
    assert all(attr.expr == s.Literal(attr.line, key) for key, attr in _arguments(tree))
    _terraform_reads(text)

    removed = HclText(work, path.name)
    doomed = frozenset(key for key, _ in arguments[::2])
    for key, attr in arguments:
        if key in doomed:
            removed.remove(attr)
    text = removed.render()
    assert text.count(newline) == text.count("\n")
    tree = s.parse_text(text, work, path.name).body
    assert _shape(tree) == _shape(original.tree, doomed)
    _terraform_reads(text)
