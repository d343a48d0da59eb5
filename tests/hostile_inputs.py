"""Hostile inputs for the command line, and a runner that bounds and inspects each run.

Every case is a small directory tree built at run time (files, symbolic links,
FIFOs, directories where files belong) and a command line. A run passes when
it exits 0-3 (never 4, the internal-error code), prints no traceback, stays
within its time and memory, and no output (text, json, sarif, junit, github,
the baseline file) holds the planted secret.

    python tests/hostile_inputs.py                  # every corpus case plus generated ones, with counts
    python tests/hostile_inputs.py --generated 300
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SECRET = "Pl4nted-Hunter2-Zq7x"
FORMATS = ("text", "json", "sarif", "junit", "github")
TIME_LIMIT_S = 60.0  # wall time on a machine others share; a hang never ends
MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024  # address space of a subprocess run
PEAK_RSS_LIMIT_MB = 400


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class Fifo:
    pass


@dataclass(frozen=True)
class Directory:
    pass


@dataclass
class Case:
    """Files to lay out in a fresh directory and the arguments to run (``{d}`` is that directory)."""

    kind: str
    name: str
    files: dict[str, Any]
    argv: list[str] = field(default_factory=lambda: ["{d}"])
    env: dict[str, str] = field(default_factory=dict)
    secret: str | None = SECRET
    codes: frozenset[int] = frozenset({0, 1, 2, 3})

    def lay_out(self, base: Path) -> None:
        for rel, content in self.files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Symlink):
                os.symlink(content.target, path)
            elif isinstance(content, Fifo):
                os.mkfifo(path)
            elif isinstance(content, Directory):
                path.mkdir(exist_ok=True)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            elif callable(content):
                path.write_text(content(), encoding="utf-8")
            else:
                path.write_text(content, encoding="utf-8")

    def args(self, base: Path) -> list[str]:
        return [a.replace("{d}", str(base)) for a in self.argv]


# --------------------------------------------------------------------------- #
# The corpus

CLUSTER = """
resource "aws_rds_cluster" "c" {
  cluster_identifier = "kb-cluster"
  engine             = "aurora-postgresql"
  engine_mode        = "provisioned"
  engine_version     = "16.6"
  master_username    = "postgres"
  master_password    = var.db_password
  %s
  serverlessv2_scaling_configuration {
    min_capacity = 0
    max_capacity = 4
  }
}
"""
PASSWORD_VAR = f'variable "db_password" {{\n  default   = "{SECRET}"\n  sensitive = true\n}}\n'


def cluster(extra: str = "", password_var: str = PASSWORD_VAR) -> str:
    return password_var + (CLUSTER % extra)


def _instances(attr: str) -> str:
    return cluster() + (
        'resource "aws_rds_cluster_instance" "i" {\n'
        f"  {attr}\n"
        '  cluster_identifier = aws_rds_cluster.c.id\n  instance_class = "db.serverless"\n'
        '  engine = "aurora-postgresql"\n}\n'
    )


def _laughs(kind: str, levels: int = 40) -> str:
    lines = ['  a0 = "lollollollollol"' if kind == "string" else "  a0 = [1, 2, 3, 4, 5, 6, 7, 8]"]
    for i in range(1, levels + 1):
        if kind == "string":
            lines.append(f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"')
        else:
            lines.append(f"  a{i} = [local.a{i - 1}, local.a{i - 1}]")
    use = f"local.a{levels}" if kind == "string" else f"jsonencode(local.a{levels})"
    return "locals {\n" + "\n".join(lines) + "\n}\n" + cluster(f"database_name = {use}")


def _deep(opening: str, closing: str, depth: int) -> str:
    return opening * depth + "1" + closing * depth


def _big_literal() -> str:
    return cluster() + 'locals {\n  big = "' + "x" * (50 * 1024 * 1024) + '"\n}\n'


def _plan(**overrides: Any) -> str:
    doc: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": [],
        "configuration": {"root_module": {}},
    }
    doc.update(overrides)
    return json.dumps(doc)


def _sensitive_plan() -> str:
    """A plan whose cluster identifier is marked sensitive (AV108's pass message would quote it)."""
    after = {
        "cluster_identifier": SECRET.lower(),
        "engine": "aurora-postgresql",
        "engine_mode": "provisioned",
        "engine_version": "16.6",
        "master_password": SECRET,
        "serverlessv2_scaling_configuration": [{"min_capacity": 0, "max_capacity": 4}],
    }
    change = {
        "address": "aws_rds_cluster.c",
        "mode": "managed",
        "type": "aws_rds_cluster",
        "name": "c",
        "change": {
            "actions": ["create"],
            "before": None,
            "after": after,
            "after_unknown": {},
            "before_sensitive": False,
            "after_sensitive": {"cluster_identifier": True, "master_password": True},
        },
    }
    return json.dumps({
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": [
            {"address": "aws_rds_cluster.c", "mode": "managed", "type": "aws_rds_cluster", "name": "c",
             "values": after, "sensitive_values": {"cluster_identifier": True, "master_password": True}}
        ]}},
        "resource_changes": [change],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_rds_cluster.c", "mode": "managed", "type": "aws_rds_cluster", "name": "c",
             "expressions": {"cluster_identifier": {"references": ["var.id"]}}}
        ]}},
    })


def corpus() -> list[Case]:
    """The hand-written hostile inputs, by kind."""
    c: list[Case] = []
    add = c.append
    main = "main.tf"
    # -- resource bounds -----------------------------------------------------
    add(Case("bounds", "count 100000000", {main: _instances("count = 100000000")}))
    add(Case("bounds", "count 1e999", {main: _instances("count = 1e999")}))
    add(Case("bounds", "count 0 * 1e999", {main: _instances("count = 0 * 1e999")}))
    add(Case("bounds", "count -1", {main: _instances("count = -1")}))
    add(Case("bounds", "count 1.5", {main: _instances("count = 1.5")}))
    num_var = 'variable "n" {\n  type = number\n}\n'
    add(Case("bounds", "--var n=1e999", {main: num_var + _instances("count = var.n")},
             ["{d}", "--var", "n=1e999"]))
    add(Case("bounds", "TF_VAR_n=1e999", {main: num_var + _instances("count = var.n")}, env={"TF_VAR_n": "1e999"}))
    add(Case("bounds", "module count 1000000", {
        main: cluster() + 'module "m" {\n  source = "./m"\n  count  = 1000000\n}\n',
        "m/main.tf": 'resource "aws_db_subnet_group" "g" {\n  name = "g"\n  subnet_ids = []\n}\n',
    }))
    add(Case("bounds", "for_each range(1000000)", {main: _instances("for_each = range(1000000)")}))
    add(Case("bounds", "for_each toset(range(100000))", {
        main: _instances("for_each = toset([for i in range(100000) : tostring(i)])")}))
    add(Case("bounds", "toset(range(100000))", {main: cluster("database_name = length(toset(range(100000)))")}))
    for value in ("5", "true", "0.5", "null", '"x"'):
        add(Case("types", f"for_each = {value}", {main: _instances(f"for_each = {value}")}))
    add(Case("bounds", "port = 1e999", {main: cluster("port = 1e999")}))
    add(Case("bounds", "cidrsubnet ::/0 120 1e15", {main: cluster('database_name = cidrsubnet("::/0", 120, 1e15)')}))
    add(Case("bounds", "cidrsubnet 10/8 200 1", {main: cluster('database_name = cidrsubnet("10.0.0.0/8", 200, 1)')}))
    add(Case("bounds", "module calling ./ twice", {
        main: cluster() + 'module "a" {\n  source = "./"\n}\nmodule "b" {\n  source = "./"\n}\n'}))
    add(Case("bounds", "modules calling each other", {
        main: cluster() + 'module "a" {\n  source = "./a"\n}\n',
        "a/main.tf": 'module "b" {\n  source = "../b"\n}\nmodule "c" {\n  source = "../b"\n}\n',
        "b/main.tf": 'module "a" {\n  source = "../a"\n}\nmodule "z" {\n  source = "../a"\n}\n',
    }))
    add(Case("bounds", "variable default = var.a", {
        main: cluster("database_name = var.a") + 'variable "a" {\n  default = var.a\n}\n'}))
    add(Case("bounds", "billion laughs (strings)", {main: _laughs("string")}))
    add(Case("bounds", "billion laughs (lists, jsonencode)", {main: _laughs("list")}))
    add(Case("bounds", "billion laughs (lists, flatten)", {
        main: _laughs("list").replace("jsonencode(local.a40)", "length(flatten(local.a40))")}))
    add(Case("bounds", 'format("%0999999999d")', {main: cluster('database_name = format("%0999999999d", 1)')}))
    add(Case("bounds", 'format("%.999999999f")', {main: cluster('database_name = format("%.999999999f", 1)')}))
    add(Case("bounds", "join repeating a 1 MB separator", {
        main: cluster('database_name = join(format("%01000000d", 1), range(2000))')}))
    add(Case("bounds", "strings built in a for expression", {
        main: cluster('database_name = length([for i in range(5000) : format("%0900000d", i)])')}))
    add(Case("bounds", "ranges built in a for expression", {
        main: cluster("database_name = length([for i in range(2000) : range(90000)])")}))
    add(Case("bounds", "replace amplification", {
        main: cluster('database_name = replace(format("%0900000d", 1), "0", format("%0900000d", 2))')}))
    add(Case("bounds", "nested for 10000 x 10000", {
        main: cluster("database_name = length(flatten([for a in range(10000) : [for b in range(10000) : a]]))")}))
    add(Case("bounds", "50 MB string literal", {main: _big_literal}))
    add(Case("bounds", "4 MB of attributes", {main: cluster() + "locals {\n" + "".join(
        f'  a{i} = [1, 2, "x"]\n' for i in range(170000)) + "}\n"}))
    add(Case("bounds", "deep parentheses", {main: cluster("database_name = " + _deep("(", ")", 5000))}))
    add(Case("bounds", "deep tuples", {main: cluster("database_name = " + _deep("[", "]", 5000))}))
    add(Case("bounds", "deep nested blocks", {main: cluster() + "a {" * 3000 + "}" * 3000 + "\n"}))
    add(Case("bounds", "3000 chained locals", {
        main: cluster("database_name = local.l2999") + "locals {\n  l0 = 1\n"
        + "".join(f"  l{i} = local.l{i - 1}\n" for i in range(1, 3000)) + "}\n"}))
    add(Case("bounds", "jsondecode deep", {
        main: cluster('database_name = jsondecode("' + "[" * 100000 + "]" * 100000 + '")')}))
    # -- side files ----------------------------------------------------------
    deep_json = "[" * 200000 + "]" * 200000
    add(Case("side-files", "terraform.tfvars.json nested deep", {
        main: cluster(), "terraform.tfvars.json": '{"db_password": ' + deep_json + "}"}))
    add(Case("side-files", "--plan nested deep", {"plan.json": deep_json}, ["--plan", "{d}/plan.json"]))
    add(Case("side-files", "--baseline nested deep", {main: cluster(), "b.json": '{"entries": ' + deep_json + "}"},
             ["{d}", "--baseline", "{d}/b.json"]))
    add(Case("side-files", "--plan a FIFO", {"plan.json": Fifo()}, ["--plan", "{d}/plan.json"]))
    add(Case("side-files", "--plan /dev/zero", {}, ["--plan", "/dev/zero"]))
    add(Case("side-files", "--baseline a FIFO", {main: cluster(), "b.json": Fifo()},
             ["{d}", "--baseline", "{d}/b.json"]))
    add(Case("side-files", "--baseline /dev/zero", {main: cluster()}, ["{d}", "--baseline", "/dev/zero"]))
    add(Case("side-files", "--write-baseline a directory", {main: cluster(), "b": Directory()},
             ["{d}", "--write-baseline", "{d}/b"]))
    for name, target in (("/dev/null", "/dev/null"), ("a directory", "{d}/vars"), ("a FIFO", "{d}/fifo.tfvars"),
                         ("missing", "{d}/nope.tfvars")):
        add(Case("side-files", f"--var-file {name}", {main: cluster(), "vars": Directory(), "fifo.tfvars": Fifo()},
                 ["{d}", "--var-file", target]))
    for text in ("tool = 5", "tool = [1, 2]", '[tool]\naurora-validate = 5', "[tool]\naurora-validate = [1]",
                 "profile = 5", 'skip = "AV101"', "x = " + "[" * 5000 + "]" * 5000, "[[tool]]\nx = 1",
                 '[tool.aurora-validate]\nvar-files = [1]', "= broken", "fail-on = []", "baseline = {}"):
        add(Case("side-files", f".aurora-validate.toml {text[:30]!r}",
                 {main: cluster(), ".aurora-validate.toml": text}))
        add(Case("side-files", f"pyproject.toml {text[:30]!r}", {main: cluster(), "pyproject.toml": text}))
    module_call = cluster() + 'module "m" {\n  source = "registry.example/x/y"\n}\n'
    for text in ("[]", '{"Modules": 5}', '{"Modules": [5]}', '{"Modules": [{"Key": "m", "Dir": 5}]}',
                 '{"Modules": [{"Key": "m", "Dir": "/nonexistent/\\u0000x"}]}', deep_json, "{not json", "5"):
        add(Case("side-files", f"modules.json {text[:30]!r}",
                 {main: module_call, ".terraform/modules/modules.json": text}))
    for label, doc in (
        ("variables a list", _plan(variables=[1, 2])),
        ("resource change without address", _plan(resource_changes=[{"change": {"after": {}}}])),
        ("resource change a string", _plan(resource_changes=["x"])),
        ("module_calls a list", _plan(configuration={"root_module": {"module_calls": [1]}})),
        ("root_module a list", _plan(planned_values={"root_module": []})),
        ("resources a dict", _plan(planned_values={"root_module": {"resources": {"a": 1}}})),
        ("after a list", _plan(resource_changes=[{"address": "aws_rds_cluster.c", "type": "aws_rds_cluster",
                                                   "name": "c", "change": {"after": [1]}}])),
        ("configuration a string", _plan(configuration="x")),
        ("expressions a list", _plan(configuration={"root_module": {"resources": [
            {"address": "aws_rds_cluster.c", "type": "aws_rds_cluster", "name": "c", "expressions": [1]}]}})),
        ("a number", "5"),
        ("not UTF-8", "\udcff"),
    ):
        add(Case("side-files", f"plan: {label}", {"plan.json": doc.encode("utf-8", "surrogateescape")},
                 ["--plan", "{d}/plan.json"]))
    for label, source in (("a symbolic link loop", "./loop"), ("a NUL", "./a\\u0000b"),
                          ("a path too long", "./" + "a" * 5000), ("a deep path", "./" + "a/" * 3000),
                          ("a file", "./main.tf")):
        add(Case("side-files", f"module source {label}", {
            main: cluster() + f'module "m" {{\n  source = "{source}"\n}}\n', "loop": Symlink("loop")}))
    # -- files skipped without a word ------------------------------------------
    add(Case("skipped-files", "dangling .tf symlink", {main: cluster(), "gone.tf": Symlink("nowhere.tf")}))
    add(Case("skipped-files", "looping .tf symlink", {main: cluster(), "loop.tf": Symlink("loop.tf")}))
    add(Case("skipped-files", "FIFO named .tf", {main: cluster(), "pipe.tf": Fifo()}))
    add(Case("skipped-files", "directory named .tf", {main: cluster(), "dir.tf": Directory()}))
    add(Case("skipped-files", "directory named terraform.tfvars", {main: cluster(), "terraform.tfvars": Directory()}))
    add(Case("skipped-files", "FIFO named terraform.tfvars", {main: cluster(), "terraform.tfvars": Fifo()}))
    add(Case("skipped-files", "FIFO named x.auto.tfvars", {main: cluster(), "x.auto.tfvars": Fifo()}))
    # -- secrets ---------------------------------------------------------------
    add(Case("secrets", "tobool(var.db_password), sensitive",
             {main: cluster("storage_encrypted = tobool(var.db_password)")}))
    plain_var = f'variable "x" {{\n  default = "{SECRET}"\n}}\n'
    add(Case("secrets", "tobool(var.x) where x is the master password", {
        main: plain_var + (CLUSTER % "storage_encrypted = tobool(var.x)").replace("var.db_password", "var.x")}))
    add(Case("secrets", "tonumber(var.db_password) as count", {main: _instances("count = tonumber(var.db_password)")}))
    add(Case("secrets", "single-quoted password in a .tf",
             {main: f"resource \"aws_rds_cluster\" \"c\" {{\n  master_password = '{SECRET}'\n}}\n"}))
    add(Case("secrets", "single-quoted password in terraform.tfvars", {
        main: cluster(), "terraform.tfvars": f"db_password = '{SECRET}'\n"}))
    add(Case("secrets", "{{ }} template left in tfvars", {
        main: cluster(), "terraform.tfvars": f"db_password = {{{{ {SECRET} }}}}\n"}))
    add(Case("secrets", "@ left in tfvars", {main: cluster(), "terraform.tfvars": f"db_password = @{SECRET}\n"}))
    add(Case("secrets", "bare password in tfvars", {main: cluster(), "terraform.tfvars": f"db_password = {SECRET}\n"}))
    add(Case("secrets", "password after a broken line", {
        main: cluster(), "terraform.tfvars": f'db_password = "{SECRET}" "{SECRET}"\n'}))
    add(Case("secrets", "--var without =", {main: cluster()}, ["{d}", "--var", SECRET]))
    add(Case("secrets", "--var with the password, failing to convert", {
        main: cluster("storage_encrypted = tobool(var.db_password)")}, ["{d}", "--var", f"db_password={SECRET}"]))
    add(Case("secrets", "TF_VAR_db_password failing to convert", {
        main: cluster("port = tonumber(var.db_password)")}, env={"TF_VAR_db_password": SECRET}))
    add(Case("secrets", "password in tfvars.json", {
        main: cluster("storage_encrypted = tobool(var.db_password)"),
        "terraform.tfvars.json": json.dumps({"db_password": SECRET})}))
    add(Case("secrets", "plan after_sensitive, --show-passed", {"plan.json": _sensitive_plan()},
             ["--plan", "{d}/plan.json", "--show-passed"]))
    add(Case("secrets", "sensitive value in a resource name used as an index", {
        main: cluster("database_name = {a = 1}[var.db_password]")}))
    add(Case("secrets", "password as a for_each key", {main: _instances("for_each = toset([var.db_password])")}))
    add(Case("secrets", "password in a module source",
             {main: cluster() + 'module "m" {\n  source = "./${var.db_password}"\n}\n'}))
    # -- isolation -------------------------------------------------------------
    add(Case("isolation", "crash root before a good root", {
        "crash/main.tf": _instances("count = 1e999"), "good/main.tf": cluster()},
        ["{d}/crash", "{d}/good", "--format", "json"]))
    return c


# --------------------------------------------------------------------------- #
# Generated inputs

_NUMBERS = ["0", "1", "-1", "1e999", "-1e999", "0.5", "1e308", "99999999999999999999", "1e15", "2e9", "-0"]
_STRINGS = ['"x"', '""', '"10.0.0.0/16"', '"::/0"', '"%d"', '"%0999d"', '"${var.db_password}"', '"true"']
_ATOMS = [*_NUMBERS, *_STRINGS, "true", "false", "null", "var.db_password", "local.l", "[]", "{}", "[1, 2]",
          '{a = 1}', "range(5)", "var.missing", "aws_rds_cluster.c", "aws_rds_cluster.c.id", "count.index",
          "each.key"]
_FUNCS = ["length", "tostring", "tonumber", "tobool", "toset", "tolist", "tomap", "keys", "values", "flatten",
          "jsonencode", "jsondecode", "range", "format", "join", "split", "cidrsubnet", "element", "lookup",
          "merge", "concat", "distinct", "slice", "substr", "replace", "upper", "min", "max", "abs", "ceil",
          "floor", "coalesce", "one", "zipmap", "compact", "reverse", "sort", "contains", "trimprefix", "try",
          "can", "formatlist", "setproduct", "nonexistent"]
_OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">", "&&", "||"]


def random_expression(rng: random.Random, depth: int = 0) -> str:
    """An HCL expression from a small grammar, biased towards awkward values and calls."""
    choice = rng.random()
    if depth > 4 or choice < 0.3:
        return rng.choice(_ATOMS)
    if choice < 0.6:
        args = ", ".join(random_expression(rng, depth + 1) for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(_FUNCS)}({args})"
    if choice < 0.75:
        return f"({random_expression(rng, depth + 1)} {rng.choice(_OPS)} {random_expression(rng, depth + 1)})"
    if choice < 0.85:
        return f"[for x in {random_expression(rng, depth + 1)} : {random_expression(rng, depth + 1)}]"
    if choice < 0.92:
        return f"({random_expression(rng, depth + 1)} ? {random_expression(rng, depth + 1)} : 1)"
    return f'"${{{random_expression(rng, depth + 1)}}}"'


_ARGUMENTS = ["database_name", "port", "storage_encrypted", "count", "for_each", "engine_version",
              "cluster_identifier", "master_password", "db_subnet_group_name"]


def generated_case(rng: random.Random, n: int) -> Case:
    """One generated input: a random expression in a random place, or a mutated reference file."""
    roll = rng.random()
    if roll < 0.6:
        arg = rng.choice(_ARGUMENTS)
        expr = random_expression(rng)
        text = f"locals {{\n  l = {random_expression(rng)}\n}}\n"
        if arg in ("count", "for_each"):
            text += _instances(f"{arg} = {expr}")
        else:
            text += cluster(f"{arg} = {expr}") if arg != "master_password" else cluster().replace(
                "var.db_password", expr)
        return Case("generated-expression", f"expression {n}", {"main.tf": text})
    sources = sorted((REPO / "reference").rglob("*.tf"))
    source = rng.choice(sources)
    data = bytearray(source.read_bytes())
    mutation = rng.choice(["truncate", "flip", "duplicate", "delete", "insert"])
    if mutation == "truncate":
        data = data[: rng.randrange(len(data))]
    elif mutation == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif mutation == "duplicate":
        i = rng.randrange(len(data))
        data[i:i] = data[i : i + rng.randint(1, 400)]
    elif mutation == "delete":
        i = rng.randrange(len(data))
        del data[i : i + rng.randint(1, 40)]
    else:
        i = rng.randrange(len(data))
        data[i:i] = rng.choice([b"{", b"}", b'"', b"${", b"[", b"'", b"var.db_password", b"\x00", b"\r", b"\\"])
    files: dict[str, Any] = {"main.tf": bytes(data), "variables.tf": PASSWORD_VAR}
    return Case("generated-mutation", f"{mutation} of {source.name} ({n})", files)


def generated(count: int, seed: int = 0) -> list[Case]:
    rng = random.Random(seed)
    return [generated_case(rng, n) for n in range(count)]


# --------------------------------------------------------------------------- #
# Running


@dataclass
class Outcome:
    case: Case
    code: int | None
    seconds: float
    problems: list[str] = field(default_factory=list)
    peak_mb: float = 0.0


def _inspect(case: Case, code: int | None, texts: dict[str, str]) -> list[str]:
    problems = []
    if code is None:
        problems.append("hang")
    elif code == 4 or code not in case.codes:
        problems.append(f"exit code {code}")
    for where, text in texts.items():
        if "Traceback (most recent call last)" in text or "internal error:" in text:
            problems.append(f"traceback in {where}")
        if case.secret and any(part in text for part in _secret_parts(case.secret)):
            problems.append(f"secret in {where}")
    return problems


def _secret_parts(secret: str) -> list[str]:
    """The secret and its words: a parse error quoting "Pl4nted" of "Pl4nted-Hunter2-Zq7x" leaks too."""
    return [secret, *(w for w in secret.replace("_", "-").split("-") if len(w) >= 6)]


def _outputs(base: Path) -> dict[str, str]:
    """Files the run wrote (baseline, --output), read back for the leak check."""
    out = {}
    for name in ("baseline.json", "report.out"):
        p = base / name
        if p.is_file():
            out[name] = p.read_text(encoding="utf-8", errors="replace")
    return out


_PEAK = "hostile-inputs-peak-rss-kb="


def peak_rss_kb() -> int:
    """This process's peak resident size (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(argv: list[str]) -> int:  # pragma: no cover - runs in the child process
    """The command line under an address-space limit; the peak resident size goes to stderr last."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    other = os.environ.get("HOSTILE_VALIDATOR_PATH")  # measure another checkout of the package
    if other:
        sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in type(f).__name__ and
                            "editable" not in getattr(f, "__module__", "")]
        sys.path.insert(0, other)
    from validator.cli import main

    try:
        code = main(argv)
    finally:
        sys.stdout.flush()
        print(f"\n{_PEAK}{peak_rss_kb()}", file=sys.stderr, flush=True)
    return code


def run_subprocess(case: Case, fmt: str = "json", timeout: float = TIME_LIMIT_S) -> Outcome:
    """Run the command in its own process, bounded in time and address space."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        base = Path(tmp)
        case.lay_out(base)
        argv = [*case.args(base), "--format", fmt, "--write-baseline", str(base / "baseline.json")]
        env = {**os.environ, **case.env, "PYTHONPATH": str(REPO)}
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", *argv], cwd=base, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        seconds = time.monotonic() - start
        stderr = err.decode("utf-8", "replace")
        found = re.search(rf"\n?{_PEAK}(\d+)\n?", stderr)
        peak = int(found.group(1)) if found else 0
        stderr = stderr.replace(found.group(0), "") if found else stderr
        texts = {"stdout": out.decode("utf-8", "replace"), "stderr": stderr, **_outputs(base)}
        outcome = Outcome(case, code, seconds, _inspect(case, code, texts), peak / 1024)
        if code is not None and code < 0:
            outcome.problems.append(f"killed by signal {-code} (memory?)")
        return outcome


class _Hang(BaseException):  # not caught by the last-resort handler
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang()


@contextlib.contextmanager
def _scan_once() -> Iterator[None]:
    """Within a case, scan once and render every format from it (the scan is what costs)."""
    from validator import redact
    from validator.commands import plan, static
    from validator.findings import Report

    cache: dict[tuple[str, ...], tuple[Report, set[str]]] = {}
    originals = {"static": static.collect, "plan": plan.collect}

    def cached(module: str) -> Callable[[argparse.Namespace], Report]:
        def collect(args: argparse.Namespace) -> Report:
            key = (module, *map(str, args.paths), str(args.plan), *args.var, *args.var_file)
            if key not in cache:
                cache[key] = (originals[module](args), set(redact._values))
            report, secrets = cache[key]
            for value in secrets:
                redact.remember(value)
            # A copy of every field (the text report's sensitive lines too); filtering rewrites the lists.
            return dataclasses.replace(report, findings=list(report.findings), errors=list(report.errors),
                                       roots=list(report.roots), denied=list(report.denied))
        return collect

    static.collect, plan.collect = cached("static"), cached("plan")
    try:
        yield
    finally:
        static.collect, plan.collect = originals["static"], originals["plan"]


def run_in_process(case: Case, formats: tuple[str, ...] = FORMATS, timeout: float = TIME_LIMIT_S) -> Outcome:
    """Run ``validator.cli.main`` in this process once per format (and once writing a baseline)."""
    from validator.cli import main

    problems: list[str] = []
    codes: list[int | None] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        base = Path(tmp)
        case.lay_out(base)
        runs = [[*case.args(base), "--format", f] for f in formats]
        runs.append([*case.args(base), "--write-baseline", str(base / "baseline.json"),
                     "--output", str(base / "report.out")])
        scans = _scan_once()
        scans.__enter__()
        for argv in runs:
            out, err = io.StringIO(), io.StringIO()
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            code: int | None
            try:
                with _environ(case.env), _cwd(base), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(argv)
            except _Hang:
                code = None
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
            codes.append(code)
            texts = {f"stdout ({argv[-1]})": out.getvalue(), "stderr": err.getvalue(), **_outputs(base)}
            problems.extend(p for p in _inspect(case, code, texts) if p not in problems)
            if code is None:
                break
        scans.__exit__(None, None, None)
    final = next((c for c in codes if c is None or c == 4), codes[-1] if codes else None)
    return Outcome(case, final, time.monotonic() - start, problems, peak_rss_kb() / 1024)


@contextlib.contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# --------------------------------------------------------------------------- #
# make fuzz


def _cases(source: str, stop: int, seed: int) -> list[Case]:
    return corpus() if source == "corpus" else generated(stop, seed)


def _worker(args: argparse.Namespace) -> int:  # pragma: no cover - a child of the driver
    """Run cases ``start..stop`` of a source in process (every format) and print one JSON line each."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    cases = _cases(args.source, args.stop, args.seed)[args.start : args.stop]
    formats = FORMATS if args.source == "corpus" else ("json", "sarif")
    for n, case in enumerate(cases, args.start):
        o = run_in_process(case, formats=formats, timeout=args.timeout)
        print(json.dumps({"n": n, "code": o.code, "seconds": o.seconds, "problems": o.problems,
                          "peak_mb": o.peak_mb}), flush=True)
    return 0


def fuzz(generated_count: int, seed: int, timeout: float, report: Callable[[str], None] = print) -> int:
    """Every corpus case in its own bounded process, then corpus and generated cases in bounded worker
    processes (every output format and the baseline); print the counts by kind."""
    from concurrent.futures import ThreadPoolExecutor

    tried: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    peak = {"subprocess": 0.0, "worker": 0.0}
    bad: list[str] = []

    def count(kind: str, name: str, problems: list[str], seconds: float, peak_mb: float, where: str) -> None:
        tried[f"{kind} ({where})"] += 1
        peak[where] = max(peak[where], peak_mb)
        if where == "subprocess" and peak_mb > PEAK_RSS_LIMIT_MB:
            problems = [*problems, f"peak memory {peak_mb:.0f} MB"]
        for p in problems:
            key = ("hangs" if p == "hang" else "tracebacks" if p.startswith(("traceback", "exit code 4"))
                   else "leaks" if p.startswith("secret") else "memory" if "memory" in p else "other")
            failures[key] += 1
        if problems:
            bad.append(f"  {kind}: {name} ({where}): {', '.join(problems)} ({seconds:.1f} s)")

    cases = corpus()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for case, o in zip(cases, pool.map(lambda c: run_subprocess(c, "json", timeout), cases), strict=True):
            count(case.kind, case.name, o.problems, o.seconds, o.peak_mb, "subprocess")
    batches = [("corpus", 0, len(cases))]
    batches += [("generated", s, min(s + 250, generated_count)) for s in range(0, generated_count, 250)]

    def run_batch(batch: tuple[str, int, int]) -> tuple[tuple[str, int, int], subprocess.CompletedProcess[str]]:
        source, start, stop = batch
        return batch, subprocess.run(
            [sys.executable, __file__, "--worker", "--source", source, "--start", str(start), "--stop", str(stop),
             "--seed", str(seed), "--timeout", str(timeout)],
            cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        for (source, start, stop), proc in pool.map(run_batch, batches):
            every = _cases(source, stop, seed)
            seen = set()
            for line in proc.stdout.splitlines():
                row = json.loads(line)
                seen.add(row["n"])
                case = every[row["n"]]
                count(case.kind, case.name, row["problems"], row["seconds"], row["peak_mb"], "worker")
            missing = [n for n in range(start, stop) if n not in seen]
            if missing:  # the worker died (out of memory?) at the first missing case
                case = every[missing[0]]
                count(case.kind, case.name, [f"worker died (exit {proc.returncode}, memory?)"], 0, 0, "worker")
    report("inputs tried by kind (subprocess: one bounded process each; worker: in process, every format):")
    for kind, n in sorted(tried.items()):
        report(f"  {kind:40} {n}")
    report(f"  {'total':40} {sum(tried.values())}")
    for key in ("tracebacks", "hangs", "memory", "leaks", "other"):
        report(f"{key}: {failures[key]}")
    report(f"peak memory of one run in its own process: {peak['subprocess']:.0f} MB (limit {PEAK_RSS_LIMIT_MB} MB); "
           f"of a worker process over all its inputs: {peak['worker']:.0f} MB")
    for line in bad:
        report(line)
    return 1 if bad else 0


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generated", type=int, default=3000, help="generated inputs (default 3000)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "0")))
    parser.add_argument("--timeout", type=float, default=TIME_LIMIT_S)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", choices=("corpus", "generated"), default="generated", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stop", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    return fuzz(args.generated, args.seed, args.timeout)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(_child(sys.argv[2:]))
    sys.exit(_main())
