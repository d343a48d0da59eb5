"""The text report on reports built by hand: grouping, source excerpts, fixes, summary, colour, redaction."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rules_model import cluster, deployment

from validator.cli import main
from validator.findings import Finding, Report
from validator.model import Location, Secret, Value
from validator.reporters import text
from validator.rules import Result, Severity, Status, get_rule

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ANSI = re.compile(r"\033\[[0-9;]*m")


def finding(
    rule_id: str, root: str, file: str | None, line: int | None, status: Status = Status.FAIL, message: str = "msg"
) -> Finding:
    rule = get_rule(rule_id)
    assert rule is not None
    result = Result(status, message, f"aws_x.{rule_id.lower()}", Location(file=file, line=line))
    return Finding(rule, rule.severity, result, root)


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra" / "modules").mkdir(parents=True)
    (tmp_path / "infra" / "main.tf").write_text(
        'resource "aws_rds_cluster" "c" {\n'  # 1
        '  engine = "aurora-postgresql"\n'  # 2
        "  iam_database_authentication_enabled = false\n"  # 3
        "}\n"  # 4
        'resource "aws_security_group" "sg" {\n'  # 5
        "  ingress {\n"  # 6
        "    from_port   = 5432\n"  # 7
        "    to_port     = 5432\n"  # 8
        '    cidr_blocks = ["0.0.0.0/0"]\n'  # 9
        "  }\n"  # 10
        "}\n",
        encoding="utf-8",
    )
    (tmp_path / "infra" / "modules" / "db.tf").write_text("\n" * 11 + "  publicly_accessible = true\n")
    return tmp_path


def test_findings_are_grouped_by_root_then_file_with_the_marked_line(tree: Path) -> None:
    report = Report(
        findings=[
            finding("AV303", "infra", "modules/db.tf", 12, message="instance is public"),
            finding("AV106", "infra", "main.tf", 3, message="IAM auth is off"),
            finding("AV301", "infra", "main.tf", 6, message="5432 open"),
        ],
        roots=["infra"],
    )
    out = text.render(report)
    lines = out.splitlines()
    assert lines[0] == "infra"
    assert lines.index("  main.tf") < lines.index("  modules/db.tf")
    # the reported line, its number, and a marker under it
    i = lines.index("     3 |   iam_database_authentication_enabled = false")
    assert lines[i + 1] == "       |   " + "^" * len("iam_database_authentication_enabled = false")
    assert "--> infra/main.tf:3 [aws_x.av106]" in out
    # a short block opened on the reported line is shown whole, the reported line marked
    assert "  >  6 |   ingress {" in lines
    assert '     9 |     cidr_blocks = ["0.0.0.0/0"]' in lines
    assert "= fix: aws_rds_cluster: iam_database_authentication_enabled = true" in out
    assert f"= docs: {get_rule('AV106').doc_url}" in out
    assert "    12 |   publicly_accessible = true" in out


def test_summary_counts_by_severity_and_by_rule(tree: Path) -> None:
    report = Report(
        findings=[
            finding("AV106", "infra", "main.tf", 3),
            finding("AV106", "infra", "main.tf", 3, message="second"),
            finding("AV303", "infra", "modules/db.tf", 12),
            finding("AV301", "infra", "main.tf", 6, status=Status.UNRESOLVED),
        ],
        roots=["infra"],
    )
    tail = text.render(report).splitlines()[-2:]
    assert tail[0] == "by rule: AV106 (2 error); AV301 (1 unresolved); AV303 (1 warning)"
    assert tail[1] == "2 error(s), 1 warning(s), 0 note(s), 1 unresolved, 0 passed in 1 root module (profile default)"


def test_compact_is_one_line_per_finding(tree: Path) -> None:
    report = Report(findings=[finding("AV106", "infra", "main.tf", 3, message="IAM auth is off")], roots=["infra"])
    assert text.render(report, compact=True).splitlines() == [
        "infra/main.tf:3: error AV106 IAM auth is off [aws_x.av106]",
        "1 error(s), 0 warning(s), 0 note(s), 0 unresolved, 0 passed in 1 root module (profile default)",
    ]


def test_quiet_prints_failures_and_the_summary_only(tree: Path) -> None:
    report = Report(
        findings=[
            finding("AV106", "infra", "main.tf", 3, message="IAM auth is off"),
            finding("AV301", "infra", "main.tf", 6, status=Status.UNRESOLVED, message="ports unknown"),
            finding("AV303", "infra", "modules/db.tf", 12, status=Status.PASS, message="private"),
        ],
        roots=["infra"],
    )
    out = text.render(report, show_passed=True, quiet=True)
    assert "IAM auth is off" in out and "ports unknown" not in out and "private" not in out
    assert out.splitlines()[-1].startswith("1 error(s), 0 warning(s), 0 note(s), 1 unresolved, 1 passed")
    compact = text.render(report, show_passed=True, quiet=True, compact=True)
    assert compact.splitlines()[0] == "infra/main.tf:3: error AV106 IAM auth is off [aws_x.av106]"
    assert len(compact.splitlines()) == 2


def test_findings_without_a_file_and_unreadable_files_have_no_excerpt(tree: Path) -> None:
    live = Finding(
        get_rule("AV106"),
        Severity.ERROR,
        Result(
            Status.FAIL, "IAM auth is off", "arn:aws:rds:x:1:cluster:c", Location(api_call="rds:DescribeDBClusters")
        ),
        "arn:aws:rds:x:1:cluster:c",
    )
    gone = finding("AV303", "infra", "nowhere.tf", 4)
    out = text.render(Report(findings=[live, gone], roots=["arn:aws:rds:x:1:cluster:c", "infra"]))
    assert "--> arn:aws:rds:x:1:cluster:c (rds:DescribeDBClusters)" in out
    assert "--> infra/nowhere.tf:4" in out and " | " not in out
    assert "in 2 targets" in out


def test_colour_only_when_asked(tree: Path) -> None:
    report = Report(findings=[finding("AV106", "infra", "main.tf", 3)], roots=["infra"])
    assert not ANSI.search(text.render(report))
    coloured = text.render(report, color=True)
    assert "\033[31merror\033[0m" in coloured
    assert ANSI.sub("", coloured) == text.render(report)


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ({"NO_COLOR": "1"}, False),
    ],
)
def test_colour_follows_no_color_and_force_color(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], coloured: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    main([str(REFERENCE)])  # standard output is not a terminal here
    assert bool(ANSI.search(capsys.readouterr().out)) is coloured


def test_force_color_never_colours_a_report_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    main([str(REFERENCE), "--report", f"text={tmp_path / 'r.txt'}", "-o", str(tmp_path / "o.txt")])
    assert not ANSI.search((tmp_path / "r.txt").read_text()) and not ANSI.search((tmp_path / "o.txt").read_text())


# --------------------------------------------------------------------------- #
# Secrets never appear in an excerpt


def test_the_line_a_sensitive_value_comes_from_is_redacted(tree: Path) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    (tree / "infra" / "vars.tf").write_text(
        f'variable "db" {{\n  description = "x"\n  default = "{secret}"\n}}\n', encoding="utf-8"
    )
    dep = deployment(cluster(master_password=Value(Secret(secret), Location("vars.tf", 3), literal=True)))
    dep.root = "infra"
    report = Report(findings=[finding("AV302", "infra", "vars.tf", 3)], roots=["infra"], deployments=[dep])
    out = text.render(report)
    assert secret not in out
    assert "     3 |   default = <sensitive value redacted>" in out


def test_a_known_secret_is_redacted_wherever_it_is_shown(tree: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    (tree / "infra" / "other.tf").write_text(f'locals {{ x = "{secret}" }}\n', encoding="utf-8")
    dep = deployment(cluster(master_password=Value(Secret(secret), Location("vars.tf", 3))))
    dep.root = "infra"
    report = Report(findings=[finding("AV106", "infra", "other.tf", 1)], roots=["infra"], deployments=[dep])
    assert secret not in text.render(report)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('db_password = "hunter2-{w}"\n', 1),  # a tfvars entry
        ('variable "admin_password" {{\n  type    = string\n  default = "hunter2-{w}"\n}}\n', 3),
        ('resource "aws_rds_cluster" "c" {{ master_password = "hunter2-{w}" }}\n', 1),
        ('  "api_token": "hunter2-{w}",\n', 1),  # tfvars.json
    ],
)
def test_password_like_names_are_redacted_even_when_the_model_does_not_say(tree: Path, content: str, line: int) -> None:
    word = uuid.uuid4().hex
    (tree / "infra" / "x.tfvars").write_text(content.format(w=word), encoding="utf-8")
    report = Report(findings=[finding("AV302", "infra", "x.tfvars", line)], roots=["infra"])
    out = text.render(report)
    assert word not in out and text.REDACTED in out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"\\$%'),
        min_size=8,
        max_size=40,
    )
)
def test_no_master_password_reaches_the_text_report(tmp_path_factory: pytest.TempPathFactory, secret: str) -> None:
    """The reference with its literal default, a tfvars value and a -var, each a generated password."""
    root = tmp_path_factory.mktemp("ref") / "terraform"
    shutil.copytree(REFERENCE, root)
    variables = root / "variables.tf"
    source = variables.read_text(encoding="utf-8")
    variables.write_text(_replace_password(source, secret), encoding="utf-8")
    (root / "terraform.tfvars").write_text(f'aurora_root_password = "{secret}x"\n', encoding="utf-8")
    for extra in ([], ["--show-passed"], ["--quiet"], ["--compact"]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
            main([str(root), *extra])
        assert secret not in out.getvalue() and secret not in err.getvalue()


def _replace_password(variables_tf: str, secret: str) -> str:
    """Set the default of var.aurora_root_password to ``secret``."""
    head, sep, rest = variables_tf.partition('variable "aurora_root_password"')
    assert sep, "the reference declares aurora_root_password"
    body, close, tail = rest.partition("}")
    body = re.sub(r'default(\s*)=(\s*)"[^"]*"', lambda m: f'default{m.group(1)}={m.group(2)}"{secret}"', body)
    return head + sep + body + close + tail


def test_a_terminal_gets_colour_unless_no_color(tmp_path: Path) -> None:
    """Standard output on a real pseudo-terminal: coloured; with NO_COLOR: plain."""
    import os
    import pty
    import subprocess
    import sys

    def on_a_terminal(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | extra_env
        proc = subprocess.Popen(
            [sys.executable, "-m", "validator.cli", str(REFERENCE), "--quiet"],
            stdout=follower, stderr=subprocess.DEVNULL, env=env, cwd=REPO,
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks).decode("utf-8", "replace")

    assert ANSI.search(on_a_terminal({}))
    plain = on_a_terminal({"NO_COLOR": "1"})
    assert "root module" in plain and not ANSI.search(plain)
