"""Hostile input, case by case: the right one-line error, the limit named, the secret withheld."""

from __future__ import annotations

import ipaddress
import json
import os
import time
from pathlib import Path

import pytest
from hostile_inputs import PASSWORD_VAR, SECRET, _instances, _laughs, _sensitive_plan, cluster

from validator import limits, redact
from validator.cli import EXIT_INTERNAL, main
from validator.sources.terraform.hcl import load_root

# What "bounded" means in these tests: seconds of wall time on a loaded machine, far below a hang.
BOUND_S = 60


def write(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text, encoding="utf-8")
    return base


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert "Traceback" not in err and "internal error" not in err, err
    return code, json.loads(out), err


def reasons(doc: dict, rule: str) -> list[str]:
    return [f["message"] for f in doc["findings"] if f["rule_id"] == rule and f["status"] == "unresolved"]


# --------------------------------------------------------------------------- #
# The last-resort handler


def test_an_unexpected_exception_is_one_line_and_exit_code_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from validator.commands import static

    def broken(args: object) -> None:
        redact.remember(SECRET)
        raise ValueError(f"cannot frobnicate {SECRET}\nsecond line")

    monkeypatch.setattr(static, "collect", broken)
    write(tmp_path, {"main.tf": cluster()})
    code, out, err = run(capsys, str(tmp_path))
    assert code == EXIT_INTERNAL == 4 and out == ""
    assert err == (
        "aurora-validate: internal error: ValueError: cannot frobnicate (sensitive); "
        "run with --debug for the traceback\n"
    )
    code, _out, err = run(capsys, str(tmp_path), "--debug")
    assert code == 4
    assert "Traceback (most recent call last)" in err and "in broken" in err and SECRET not in err


def test_every_command_accepts_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "rules", "--debug")[0] == 0
    assert run(capsys, "explain", "AV101", "--debug")[0] == 0


def test_the_exit_code_4_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "| 4 | internal error" in readme
    from validator.cli import EPILOG

    assert "4  internal error" in EPILOG


# --------------------------------------------------------------------------- #
# One root, one var file: never hiding the others


def test_a_root_that_crashes_does_not_hide_the_good_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import validator.sources.terraform.hcl as hcl

    write(tmp_path, {"crash/main.tf": cluster(), "good/main.tf": cluster()})
    real = hcl.load_root

    def load(root: Path, **kwargs: object) -> object:
        if Path(root).name == "crash":
            raise KeyError("boom")
        return real(root, **kwargs)

    monkeypatch.setattr(hcl, "load_root", load)
    code, out, err = run(capsys, str(tmp_path / "crash"), str(tmp_path / "good"), "--format", "json")
    doc = json.loads(out)
    assert "Traceback" not in err
    assert code == 2
    assert doc["roots"] == [str(tmp_path / "good")]
    assert {f["root"] for f in doc["findings"]} == {str(tmp_path / "good")}
    [error] = doc["errors"]
    assert error["where"] == str(tmp_path / "crash")
    assert error["message"].startswith("not checked: internal error: KeyError")


def test_a_root_with_count_1e999_beside_a_good_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"crash/main.tf": _instances("count = 1e999"), "good/main.tf": cluster()})
    code, doc, _err = scan(capsys, str(tmp_path / "crash"), str(tmp_path / "good"))
    assert code == 2
    assert doc["roots"] == [str(tmp_path / "crash"), str(tmp_path / "good")]
    assert [e["message"] for e in doc["errors"]] == [
        "aws_rds_cluster_instance.i: count must be a whole number that fits a 64-bit integer"
    ]
    assert any("count must be a whole number" in m for m in reasons(doc, "AV103"))


@pytest.mark.parametrize("var_file", ["/dev/null", "{d}/vars", "{d}/pipe.tfvars", "{d}/missing.tfvars"])
def test_a_bad_var_file_is_reported_once_and_every_root_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], var_file: str
) -> None:
    write(tmp_path, {"a/main.tf": cluster(), "b/main.tf": cluster()})
    (tmp_path / "vars").mkdir()
    os.mkfifo(tmp_path / "pipe.tfvars")
    given = var_file.replace("{d}", str(tmp_path))
    code, doc, _err = scan(capsys, str(tmp_path / "a"), str(tmp_path / "b"), "--var-file", given)
    assert code == 2
    assert len(doc["roots"]) == 2
    assert [e["where"] for e in doc["errors"]] == [f"--var-file {given}"]


# --------------------------------------------------------------------------- #
# Bounds


def _timed_load(tmp_path: Path, files: dict[str, str]):
    write(tmp_path, files)
    start = time.monotonic()
    loaded = load_root(tmp_path)
    return loaded, time.monotonic() - start


def test_count_above_the_instance_limit_is_unknown_naming_it(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {"main.tf": _instances("count = 100000000")})
    multiplicity = loaded.root_module.instances("aws_rds_cluster_instance.i")[0][2].bindings["count"]["index"]
    assert "validator.limits.MAX_INSTANCES" in multiplicity.reason and "100,000,000" in multiplicity.reason
    assert seconds < BOUND_S


@pytest.mark.parametrize("value, problem", [
    ("5", "not a number"), ("true", "not a bool"), ("0.5", "not a number"), ("null", "not null"),
])
def test_for_each_of_a_scalar_is_an_input_error(tmp_path: Path, value: str, problem: str) -> None:
    loaded, _ = _timed_load(tmp_path, {"main.tf": _instances(f"for_each = {value}")})
    assert [str(e) for e in loaded.errors] == [
        f"main.tf:20: error: aws_rds_cluster_instance.i: for_each must be a map or a set of strings, {problem}"
    ]


def test_a_module_count_of_a_million_makes_no_module_instances(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {
        "main.tf": cluster() + 'module "m" {\n  source = "./m"\n  count  = 1000000\n}\n',
        "m/main.tf": 'resource "aws_db_subnet_group" "g" {\n  name = "g"\n  subnet_ids = []\n}\n',
    })
    children = loaded.root_module.children("m")
    assert len(children) == 1 and children[0][0] is None
    assert seconds < BOUND_S


def test_a_module_calling_its_own_directory_twice_is_one_cycle_error(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {
        "main.tf": cluster() + 'module "a" {\n  source = "./"\n}\nmodule "b" {\n  source = "./"\n}\n'})
    assert [e.message for e in loaded.errors] == [
        "module.a source './' calls a module that calls it: a cycle",
        "module.b source './' calls a module that calls it: a cycle",
    ]
    assert seconds < BOUND_S


def test_a_variable_default_referring_to_itself_is_unknown(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {
        "main.tf": cluster("database_name = var.a") + 'variable "a" {\n  default = var.a\n}\n'})
    value = loaded.root_module.var("a").value
    assert "cannot refer to other values" in value.reason
    assert seconds < BOUND_S


@pytest.mark.parametrize("kind", ["string", "list"])
def test_doubling_locals_stop_at_a_named_limit(tmp_path: Path, kind: str) -> None:
    loaded, seconds = _timed_load(tmp_path, {"main.tf": _laughs(kind)})
    attr = loaded.root_module.resources["aws_rds_cluster.c"].body.attributes["database_name"]
    value = loaded.root_module.evaluator.eval(attr.expr)
    assert "validator.limits.MAX_" in value.reason, value
    assert seconds < BOUND_S


@pytest.mark.parametrize("expr, limit", [
    ('format("%0999999999d", 1)', "MAX_STRING_LENGTH"),
    ("range(1000000)", "MAX_COLLECTION_LENGTH"),
    ('join(format("%01000000d", 1), range(2000))', "MAX_STRING_LENGTH"),
    ("length([for i in range(2000) : range(90000)])", "MAX_BUILT_ELEMENTS"),
    ('length([for i in range(5000) : format("%0900000d", i)])', "MAX_BUILT_CHARACTERS"),
    ("length(flatten([for a in range(400) : [for b in range(400) : a]]))", "MAX_COLLECTION_LENGTH"),
])
def test_expressions_that_would_build_too_much_name_the_limit(tmp_path: Path, expr: str, limit: str) -> None:
    loaded, seconds = _timed_load(tmp_path, {"main.tf": cluster(f"database_name = {expr}")})
    attr = loaded.root_module.resources["aws_rds_cluster.c"].body.attributes["database_name"]
    with limits.scan():
        value = loaded.root_module.evaluator.child().eval(attr.expr)
    assert limit in value.reason, value
    assert seconds < BOUND_S


def test_cidrsubnet_computes_the_subnet_instead_of_counting_to_it(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {"main.tf": cluster(
        'database_name = cidrsubnet("::/0", 120, 1e15)\n  port = cidrsubnet("10.0.0.0/16", 8, 2)')})
    c = loaded.deployment.clusters[0]
    attrs = loaded.root_module.resources["aws_rds_cluster.c"].body.attributes
    ev = loaded.root_module.evaluator
    assert ev.eval(attrs["database_name"].expr) == str(ipaddress.ip_network((10**15 << 8, 120)))
    assert ev.eval(attrs["port"].expr) == "10.0.2.0/24"
    assert c is not None and seconds < BOUND_S


def test_toset_of_a_hundred_thousand_is_linear(tmp_path: Path) -> None:
    loaded, seconds = _timed_load(tmp_path, {"main.tf": cluster("database_name = length(toset(range(100000)))")})
    attr = loaded.root_module.resources["aws_rds_cluster.c"].body.attributes["database_name"]
    assert loaded.root_module.evaluator.child().eval(attr.expr) == 100000
    assert seconds < BOUND_S


def test_a_file_above_the_size_limit_is_an_input_error(tmp_path: Path) -> None:
    loaded, _ = _timed_load(tmp_path, {
        "main.tf": cluster(), "big.tf": 'locals {\n  big = "' + "x" * (limits.MAX_FILE_BYTES + 1) + '"\n}\n'})
    assert [str(e) for e in loaded.errors] == [
        "big.tf: error: file larger than the limit of 4,194,304 (validator.limits.MAX_FILE_BYTES) bytes"
    ]


def test_a_file_of_too_many_tokens_is_refused_before_parsing(tmp_path: Path) -> None:
    many = "locals {\n" + "".join(f"  a{i} = [1, 2]\n" for i in range(limits.MAX_FILE_TOKENS // 6)) + "}\n"
    loaded, seconds = _timed_load(tmp_path, {"main.tf": cluster(), "many.tf": many})
    assert [str(e) for e in loaded.errors] == [
        "many.tf: error: more than the limit of 100,000 (validator.limits.MAX_FILE_TOKENS) tokens in one file"
    ]
    assert seconds < BOUND_S


def test_an_expression_nested_too_deep_is_a_parse_error(tmp_path: Path) -> None:
    loaded, _ = _timed_load(tmp_path, {"main.tf": cluster("database_name = " + "(" * 3000 + "1" + ")" * 3000)})
    assert any("nested deeper than 200" in str(e) for e in loaded.errors), loaded.errors


# --------------------------------------------------------------------------- #
# Side files


DEEP = "[" * 100000 + "]" * 100000


@pytest.mark.parametrize("how", ["tfvars.json", "plan", "baseline"])
def test_json_nested_too_deep_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    write(tmp_path, {"main.tf": cluster()})
    if how == "tfvars.json":
        write(tmp_path, {"terraform.tfvars.json": '{"db_password": ' + DEEP + "}"})
        argv = [str(tmp_path)]
    elif how == "plan":
        write(tmp_path, {"plan.json": DEEP})
        argv = ["--plan", str(tmp_path / "plan.json")]
    else:
        write(tmp_path, {"b.json": '{"entries": ' + DEEP + "}"})
        argv = [str(tmp_path), "--baseline", str(tmp_path / "b.json")]
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert "JSON nested deeper than the limit of 128 (validator.limits.MAX_JSON_DEPTH)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--plan", "--baseline"])
@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_plan_and_baseline_that_are_not_files_are_refused_without_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, target: str
) -> None:
    write(tmp_path, {"main.tf": cluster()})
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    argv = [option, target] if option == "--plan" else [str(tmp_path), option, target]
    start = time.monotonic()
    code, _out, err = run(capsys, *argv)
    assert code == 2 and time.monotonic() - start < BOUND_S
    assert f"{target}: " in err and ("is a FIFO (named pipe), not a file" in err or "is a device, not a file" in err)


@pytest.mark.parametrize("text, message", [
    ("tool = 5", "[tool] must be a table, not int"),
    ("[tool]\naurora-validate = 5", "[tool.aurora-validate] must be a table, not int"),
    ("tool = [1, 2]", "[tool] must be a table, not list"),
    ("x = " + "[" * 5000 + "]" * 5000, "cannot read configuration"),
])
@pytest.mark.parametrize("name", [".aurora-validate.toml", "pyproject.toml"])
def test_configuration_of_the_wrong_shape_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str, name: str
) -> None:
    write(tmp_path, {"main.tf": cluster(), name: text})
    code, _out, err = run(capsys, str(tmp_path))
    if name == "pyproject.toml" and text.startswith("x ="):
        message = "cannot read configuration"
    if name == "pyproject.toml" and "aurora-validate" not in text:  # another tool's file: not parsed
        assert code != 2 and "configuration" not in err and "must be a table" not in err, err
        return
    assert code == 2
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("manifest", ["[]", '{"Modules": 5}', '{"Modules": [5, {"Key": "m", "Dir": 5}]}', DEEP])
def test_a_module_manifest_of_the_wrong_shape_is_an_input_error(tmp_path: Path, manifest: str) -> None:
    write(tmp_path, {"main.tf": cluster() + 'module "m" {\n  source = "registry.example/x/y"\n}\n',
                     ".terraform/modules/modules.json": manifest})
    loaded = load_root(tmp_path)
    if manifest.startswith('{"Modules": [5'):
        assert loaded.errors == []  # entries that are not objects match nothing
        return
    assert [e.where for e in loaded.errors] == [".terraform/modules/modules.json"]


@pytest.mark.parametrize("change", [
    {"variables": [1, 2]},
    {"resource_changes": [{"change": {"after": {}}, "type": "aws_rds_cluster"}]},
    {"configuration": {"root_module": {"module_calls": [1]}}},
])
def test_a_plan_of_the_wrong_shape_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict
) -> None:
    doc = {"format_version": "1.2", "planned_values": {"root_module": {}}, "resource_changes": [],
           "configuration": {"root_module": {}}, **change}
    write(tmp_path, {"plan.json": json.dumps(doc)})
    code, _out, err = run(capsys, "--plan", str(tmp_path / "plan.json"))
    assert code in (0, 1, 2) and "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize("source, problem", [
    ("./loop", "a symbolic link loop"),
    ("./a\\u0000b", "source (a path holding a NUL) is"),
    ("./" + "a" * 5000, "source (a path of 5,002 characters) is a path too long for the system"),
])
def test_module_sources_the_system_refuses_are_input_errors(tmp_path: Path, source: str, problem: str) -> None:
    write(tmp_path, {"main.tf": cluster() + f'module "m" {{\n  source = "{source}"\n}}\n'})
    os.symlink("loop", tmp_path / "loop")
    loaded = load_root(tmp_path)
    assert len(loaded.errors) == 1 and problem in loaded.errors[0].message, loaded.errors


def test_files_terraform_would_refuse_are_reported_not_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": cluster()})
    os.symlink("nowhere.tf", tmp_path / "gone.tf")
    os.symlink("loop.tf", tmp_path / "loop.tf")
    os.mkfifo(tmp_path / "pipe.tf")
    (tmp_path / "dir.tf").mkdir()
    (tmp_path / "terraform.tfvars").mkdir()
    assert sorted(str(e) for e in load_root(tmp_path).errors) == [
        "dir.tf: error: is a directory, not a Terraform file",
        "gone.tf: error: is a dangling symbolic link, not a Terraform file",
        "loop.tf: error: is a symbolic link loop, not a Terraform file",
        "pipe.tf: error: is a FIFO (named pipe), not a Terraform file",
        "terraform.tfvars: error: is a directory, not a variable file",
    ]


def test_discovery_below_a_directory_never_opens_a_fifo(tmp_path: Path) -> None:
    """Finding the roots below a directory reads every .tf for module sources: a FIFO must not block it."""
    import subprocess
    import sys

    write(tmp_path / "svc", {"main.tf": cluster()})
    os.mkfifo(tmp_path / "svc" / "pipe.tf")
    done = subprocess.run([sys.executable, "-m", "validator.cli", str(tmp_path), "--format", "json"],
                          capture_output=True, text=True, timeout=20, check=False)
    assert "pipe.tf: error: is a FIFO (named pipe), not a Terraform file" in done.stderr
    assert done.returncode == 2


# --------------------------------------------------------------------------- #
# Secrets


FORMATS = ("text", "json", "sarif", "junit", "github")


def _no_secret_anywhere(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> None:
    baseline = tmp_path / "baseline.json"
    for fmt in FORMATS:
        code, out, err = run(capsys, *argv, "--format", fmt, "--show-passed", "--write-baseline", str(baseline))
        assert code in (0, 1, 2), err
        for text in (out, err, baseline.read_text(encoding="utf-8") if baseline.exists() else ""):
            assert SECRET not in text and "Pl4nted" not in text and "Hunter2" not in text


@pytest.mark.parametrize("files, extra", [
    ({"main.tf": cluster("storage_encrypted = tobool(var.db_password)")}, []),
    ({"main.tf": f'variable "x" {{\n  default = "{SECRET}"\n}}\n'
      + cluster("storage_encrypted = tobool(var.x)").replace("var.db_password", "var.x").replace(PASSWORD_VAR, "")},
     []),
    ({"main.tf": f"resource \"aws_rds_cluster\" \"c\" {{\n  master_password = '{SECRET}'\n}}\n"}, []),
    ({"main.tf": cluster(), "terraform.tfvars": f"db_password = '{SECRET}'\n"}, []),
    ({"main.tf": cluster(), "terraform.tfvars": f"db_password = {{{{ {SECRET} }}}}\n"}, []),
    ({"main.tf": cluster(), "terraform.tfvars": f"db_password = @{SECRET}\n"}, []),
    ({"main.tf": cluster(), "terraform.tfvars": f"db_password = {SECRET}\n"}, []),
    ({"main.tf": cluster()}, ["--var", SECRET]),
    ({"main.tf": cluster("port = tonumber(var.db_password)")}, ["--var", f"db_password={SECRET}"]),
], ids=["tobool sensitive", "tobool of the master password", "single quotes in .tf", "single quotes in tfvars",
        "template in tfvars", "@ in tfvars", "bare word in tfvars", "--var without =", "--var failing to convert"])
def test_a_planted_password_appears_in_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], extra: list[str]
) -> None:
    write(tmp_path, files)
    _no_secret_anywhere(capsys, tmp_path, str(tmp_path), *extra)


def test_plan_values_marked_sensitive_appear_in_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"plan.json": _sensitive_plan()})
    _code, out, _err = run(capsys, "--plan", str(tmp_path / "plan.json"), "--show-passed")
    assert "AV108 cluster_identifier '(sensitive)' is valid" in out
    _no_secret_anywhere(capsys, tmp_path, "--plan", str(tmp_path / "plan.json"))
