"""Variable type constraints: parsing, conversion, optional() defaults, nullable, and terraform's verdicts."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tfsupport import offline_env, terraform_binary

from validator.model import Unknown
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl import types as t


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def type_of(text: str) -> t.Type:
    pf = s.parse_text(f"type = {text}\n", Path("<t>"), "<t>")
    return t.parse_type(pf.body.attributes["type"].expr)


# --------------------------------------------------------------------------- #
# The converter on its own (each case checked against terraform 1.11 once)


@pytest.mark.parametrize(
    ("ty", "value", "expected"),
    [
        ("number", "5", 5),
        ("number", "1e3", 1000),
        ("number", "-5.50", -5.5),
        ("number", ".5", 0.5),
        ("string", 1.5, "1.5"),
        ("string", 1e20, "100000000000000000000"),
        ("string", True, "true"),
        ("bool", "true", True),
        ("bool", "0", False),
        ("list(string)", [1, True], ["1", "true"]),
        ("set(string)", ["b", "a", "b", "10", "9"], ["10", "9", "a", "b"]),
        ("set(number)", [10, 9, 1.5], [1.5, 9, 10]),
        ("list(any)", [1, "a", True], ["1", "a", "true"]),
        ("list(any)", [{"a": 1}, {"a": "x"}], [{"a": "1"}, {"a": "x"}]),
        ("map(any)", {"a": 1, "b": "x"}, {"a": "1", "b": "x"}),
        ("object({ a = string })", {"a": 1, "extra": 2}, {"a": "1"}),
        ("tuple([string, number])", [1, "2"], ["1", 2]),
        ("any", {"a": [1, "x"]}, {"a": [1, "x"]}),
        (
            'list(object({ a = optional(string, "x"), b = optional(object({ c = optional(number, 3) }), {}) }))',
            [{}, {"a": None, "b": {"c": None}}, {"b": None}],
            [{"a": "x", "b": {"c": 3}}] * 3,
        ),
        (
            "map(object({ instance_class = optional(string), publicly_accessible = optional(bool) }))",
            {"one": {}, "two": {"publicly_accessible": "true"}},
            {"one": {"instance_class": None, "publicly_accessible": None},
             "two": {"instance_class": None, "publicly_accessible": True}},
        ),
    ],
)
def test_conversions(ty: str, value: Any, expected: Any) -> None:
    assert t.convert(value, type_of(ty)) == expected


@pytest.mark.parametrize(
    ("ty", "value", "message"),
    [
        ("number", " 5", "a number is required"),
        ("number", "0x10", "a number is required"),
        ("bool", "True", "a bool is required"),
        ("bool", 1, "a bool is required"),
        ("string", [1], "a string is required"),
        ("object({ a = string })", {}, 'attribute "a" is required'),
        ("map(object({ a = number }))", {"k": {"a": "x"}}, 'element "k": attribute "a": a number is required'),
        ("list(string)", {"a": 1}, "list of string required"),
        ("tuple([string])", ["a", "b"], "tuple required with 1 elements"),
    ],
)
def test_values_that_do_not_convert(ty: str, value: Any, message: str) -> None:
    with pytest.raises(t.ConversionError) as exc:
        t.convert(value, type_of(ty))
    assert str(exc.value) == message


def test_unknown_values_stay_unknown_and_known_attributes_are_converted() -> None:
    unknown = Unknown("aws_db_subnet_group.x.id is known only after apply")
    ty = type_of("object({ name = string, port = optional(number, 5432), tags = optional(map(string)) })")
    assert t.convert(unknown, ty) is unknown
    assert t.convert({"name": unknown, "tags": {"a": 1}}, ty) == {"name": unknown, "port": 5432, "tags": {"a": "1"}}


@pytest.mark.parametrize(
    "text",
    ['"string"', "optional(string)", "list(optional(number))", "strin", "object(string)", "list(string, number)",
     'object({ a = optional(number, "x") })'],
)
def test_invalid_type_constraints(text: str) -> None:
    with pytest.raises(t.TypeSyntaxError):
        type_of(text)


# --------------------------------------------------------------------------- #
# Every value a variable gets


def test_every_source_of_a_value_is_converted(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            variable "from_default" {
              type    = number
              default = "3"
            }
            variable "from_tfvars" { type = list(number) }
            variable "from_cli" { type = map(number) }
            variable "from_env" { type = bool }
            variable "not_null" {
              type     = string
              default  = "fallback"
              nullable = false
            }
            module "child" {
              source = "./child"
              port   = "5432"
              tiers  = [{ name = "a" }, { name = "b", weight = "2" }]
            }
        """,
        "terraform.tfvars": 'from_tfvars = ["1", 2]\nnot_null = null\n',
        "child/main.tf": """
            variable "port" { type = number }
            variable "tiers" {
              type = list(object({
                name   = string
                weight = optional(number, 1)
              }))
            }
        """,
    })
    loaded = load_root(tmp_path, cli_vars={"from_cli": '{ a = "7" }'}, env={"TF_VAR_from_env": "true"})
    assert loaded.errors == []
    root = loaded.root_module
    assert root is not None
    assert root.var("from_default").value == 3
    assert root.var("from_tfvars").value == [1, 2]
    assert root.var("from_cli").value == {"a": 7}
    assert root.var("from_env").value is True
    assert root.var("not_null").value == "fallback"
    children = root.children("child")
    assert isinstance(children, list)
    child = children[0][1]
    assert child.var("port").value == 5432
    assert child.var("tiers").value == [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}]


def test_a_value_that_does_not_convert_is_an_input_error_naming_the_variable(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            variable "min_capacity" {
              type = number
            }
            module "db" {
              source    = "./db"
              instances = { one = { instance_class = ["db.serverless"] } }
            }
            resource "aws_rds_cluster" "c" {
              engine = "aurora-postgresql"
              serverlessv2_scaling_configuration {
                min_capacity = var.min_capacity
              }
            }
        """,
        "terraform.tfvars": 'min_capacity = "half"\n',
        "db/main.tf": """
            variable "instances" {
              type = map(object({ instance_class = optional(string) }))
            }
        """,
    })
    loaded = load_root(tmp_path)
    messages = sorted(str(e) for e in loaded.errors)
    assert messages == [
        'main.tf:7: error: Invalid value for input variable var.instances declared at db/main.tf:2: '
        'element "one": attribute "instance_class": a string is required',
        "terraform.tfvars:1: error: Invalid value for input variable var.min_capacity declared at main.tf:2: "
        "a number is required",
    ]
    scaling = loaded.deployment.clusters[0].scaling
    assert scaling is not None and not scaling.min_capacity.known
    assert "does not convert" in scaling.min_capacity.reason


# --------------------------------------------------------------------------- #
# Terraform as the oracle: generated types and values, one plan per batch

_STRINGS = ["a", "5", "-1.5", "true", "false", "1", "0", "", "x y", "1e3", "b"]
_KEYS = ["a", "b", "c"]


def _primitive_values() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(-50, 50), st.sampled_from([1.5, 0.25, -2.5]),
                     st.sampled_from(_STRINGS))


def _any_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _primitive_values(),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_KEYS), inner,
                                                                             max_size=3)),
        max_leaves=6,
    )


def _types() -> st.SearchStrategy[str]:
    primitive = st.sampled_from(["string", "number", "bool"])

    def attribute(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            inner,
            inner.map(lambda x: f"optional({x})"),
            st.sampled_from(['optional(string, "d")', "optional(number, 7)", "optional(bool, true)",
                             "optional(list(string), [])"]),
        )

    def compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        obj = st.dictionaries(st.sampled_from(_KEYS), attribute(inner), min_size=1, max_size=3).map(
            lambda d: "object({ " + ", ".join(f"{k} = {v}" for k, v in d.items()) + " })")
        return st.one_of(
            inner.map(lambda x: f"list({x})"),
            inner.map(lambda x: f"set({x})"),
            inner.map(lambda x: f"map({x})"),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: f"tuple([{', '.join(xs)}])"),
            obj,
        )

    return st.recursive(st.one_of(primitive, st.just("any")), compound, max_leaves=5)


@st.composite
def _value_for(draw: st.DrawFn, ty: t.Type) -> Any:
    """A value close to ``ty``: mostly convertible, sometimes not."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_any_values())
    if isinstance(ty, t.Primitive | t.AnyType):
        return draw(_primitive_values())
    if isinstance(ty, t.Collection):
        items = draw(st.lists(_value_for(ty.element), max_size=3))
        if ty.kind == "map":
            return dict(zip(_KEYS, items, strict=False))
        return items
    if isinstance(ty, t.TupleType):
        return [draw(_value_for(e)) for e in ty.elements]
    if isinstance(ty, t.ObjectType):
        out = {}
        for name, attr in ty.attrs:
            if attr.optional and draw(st.booleans()):
                continue
            out[name] = draw(_value_for(attr.type))
        return out
    return None


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, Any]:
    text = draw(_types())
    try:
        ty = type_of(text)
    except t.TypeSyntaxError:
        ty = t.ANY
        text = "any"
    return text, draw(_value_for(ty))


def _hcl(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_hcl(v)}" for k, v in value.items()) + " }"


def _normal(value: Any) -> Any:
    """Sets come back in terraform's order; compare lists of scalars and objects order-insensitively."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_normal(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _terraform(workdir: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([terraform_binary() or "terraform", *args], cwd=workdir, env=offline_env(),
                          capture_output=True, text=True, timeout=120, check=False)


_BATCH = 40


@pytest.mark.terraform
@pytest.mark.skipif(terraform_binary() is None, reason="no terraform binary on PATH")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases=st.lists(_cases(), min_size=_BATCH, max_size=_BATCH))
def test_conversions_agree_with_terraform(tmp_path_factory: pytest.TempPathFactory,
                                          cases: list[tuple[str, Any]]) -> None:
    """Where the scan converts a value, terraform gives the same; where it refuses one, terraform does too."""
    work = tmp_path_factory.mktemp("types")
    refused = _compare(work, cases)
    if refused:
        # Terraform plans nothing when a value is invalid: plan the accepted ones again on their own.
        cases = [("any", None) if f"v{i}" in refused else case for i, case in enumerate(cases)]
        assert not _compare(work, cases)


def _compare(work: Path, cases: list[tuple[str, Any]]) -> set[str]:
    decls = "".join(f'variable "v{i}" {{\n  type = {ty}\n}}\n' for i, (ty, _) in enumerate(cases))
    outputs = ", ".join(f"v{i} = var.v{i}" for i in range(len(cases)))
    (work / "main.tf").write_text(decls + f'output "all" {{\n  value = {{ {outputs} }}\n}}\n')
    (work / "terraform.tfvars").write_text("".join(f"v{i} = {_hcl(v)}\n" for i, (_, v) in enumerate(cases)))

    loaded = load_root(work)
    root = loaded.root_module
    assert root is not None
    ours = {f"v{i}": root.var(f"v{i}").value for i in range(len(cases))}
    undetermined = {name for name, v in ours.items() if isinstance(v, Unknown) and "not determined" in v.reason}
    refused = {name for name, v in ours.items() if isinstance(v, Unknown)} - undetermined
    assert len(loaded.errors) == len(refused)

    if not (work / ".terraform.lock.hcl").exists() and not (work / ".terraform").exists():
        _terraform(work, ["init", "-input=false", "-backend=false", "-no-color"])
    plan = _terraform(work, ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-out=tfplan"])
    raw_refused = set(re.findall(r"not suitable for var\.(v\d+) declared", plan.stderr))
    theirs_refused = raw_refused - undetermined
    detail = {n: (cases[int(n[1:])][0], _hcl(cases[int(n[1:])][1]), ours[n]) for n in sorted(refused ^ theirs_refused)}
    assert refused == theirs_refused, f"refused by one side only: {detail}"
    if raw_refused:
        return raw_refused
    assert plan.returncode == 0, plan.stderr
    shown = _terraform(work, ["show", "-json", "tfplan"])
    theirs = json.loads(shown.stdout)["planned_values"]["outputs"]["all"]["value"]
    for name, value in ours.items():
        if name in undetermined:
            continue
        ty, given_value = cases[int(name[1:])]
        assert _normal(value) == _normal(theirs[name]), f"{name}: type {ty}, value {_hcl(given_value)}"
    return set()


# --------------------------------------------------------------------------- #
# The for_each over map(object()) with optional() attributes, as public modules write it

OPTIONAL_MODULE = {
    "main.tf": """
        module "aurora" {
          source = "./aurora"
          instances = {
            writer = {}
            reader = { publicly_accessible = null, promotion_tier = "2" }
          }
          publicly_accessible = null
          scaling             = { min_capacity = 0.5 }
        }
        output "classes" {
          value = module.aurora.classes
        }
        output "scaling" {
          value = module.aurora.scaling
        }
    """,
    "aurora/main.tf": """
        variable "instance_class" {
          type    = string
          default = "db.serverless"
        }
        variable "instances" {
          type = map(object({
            instance_class      = optional(string)
            publicly_accessible = optional(bool)
            promotion_tier      = optional(number, 1)
          }))
        }
        variable "publicly_accessible" {
          type     = bool
          default  = false
          nullable = false
        }
        variable "scaling" {
          type = object({
            min_capacity             = optional(number, 0)
            max_capacity             = optional(number, 4)
            seconds_until_auto_pause = optional(number, 3600)
          })
        }
        output "classes" {
          value = { for k, v in var.instances : k => {
            instance_class      = try(coalesce(v.instance_class, var.instance_class), null)
            publicly_accessible = try(coalesce(v.publicly_accessible, var.publicly_accessible), null)
            promotion_tier      = v.promotion_tier
          } }
        }
        output "scaling" {
          value = var.scaling
        }
    """,
}


def test_optional_attributes_in_a_module_match_terraform(tmp_path: Path) -> None:
    write(tmp_path, OPTIONAL_MODULE)
    loaded = load_root(tmp_path)
    assert loaded.errors == []
    root = loaded.root_module
    assert root is not None
    ours = {name: root.trace(root.outputs[name].body.attributes["value"].expr, "main.tf").value
            for name in ("classes", "scaling")}
    assert ours == {
        "classes": {
            "writer": {"instance_class": "db.serverless", "publicly_accessible": False, "promotion_tier": 1},
            "reader": {"instance_class": "db.serverless", "publicly_accessible": False, "promotion_tier": 2},
        },
        "scaling": {"min_capacity": 0.5, "max_capacity": 4, "seconds_until_auto_pause": 3600},
    }
    if terraform_binary() is None:
        pytest.skip("no terraform binary on PATH")
    _terraform(tmp_path, ["init", "-input=false", "-backend=false", "-no-color"])
    plan = _terraform(tmp_path, ["plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan"])
    assert plan.returncode == 0, plan.stderr
    shown = json.loads(_terraform(tmp_path, ["show", "-json", "tfplan"]).stdout)
    assert {k: v["value"] for k, v in shown["planned_values"]["outputs"].items()} == ours


def test_the_module_fixture_resolves_class_public_access_and_pause() -> None:
    """The AV103 pass fixture: the values terraform derives from optional() attributes are all known."""
    fixture = Path(__file__).parent / "fixtures" / "rules" / "AV103" / "pass" / "module_optional_instances"
    loaded = load_root(fixture)
    assert loaded.errors == []
    (cluster,) = loaded.deployment.clusters
    assert cluster.scaling is not None
    assert cluster.scaling.seconds_until_auto_pause.get() == 3600
    assert cluster.scaling.max_capacity.get() == 4
    instances = sorted(cluster.instances, key=lambda i: i.address)
    assert [i.address.rsplit(".", 1)[1] for i in instances] == ['this["reader"]', 'this["writer"]']
    assert [i.instance_class.get() for i in instances] == ["db.serverless"] * 2
    assert [i.publicly_accessible.get() for i in instances] == [False] * 2


def test_command_line_and_environment_values_match_terraform(tmp_path: Path) -> None:
    """-var and TF_VAR_ strings: literal for primitive or untyped variables, HCL for the others."""
    write(tmp_path, {"main.tf": """
        variable "any_list" {
          type = any
        }
        variable "untyped" {}
        variable "port" {
          type = number
        }
        variable "scaling" {
          type = object({ min = optional(number, 0), max = optional(number, 4) })
        }
        variable "flags" {
          type = map(bool)
        }
        output "all" {
          value = [var.any_list, var.untyped, var.port, var.scaling, var.flags]
        }
    """})
    cli = {"any_list": '[1, "a"]', "untyped": "[1]", "port": "5432", "scaling": "{ max = \"8\" }"}
    env = {"TF_VAR_flags": '{ a = "true", b = false }'}
    loaded = load_root(tmp_path, cli_vars=cli, env=env)
    assert loaded.errors == []
    root = loaded.root_module
    assert root is not None
    ours = [root.var(n).value for n in ("any_list", "untyped", "port", "scaling", "flags")]
    assert ours == [[1, "a"], "[1]", 5432, {"min": 0, "max": 8}, {"a": True, "b": False}]
    if terraform_binary() is None:
        pytest.skip("no terraform binary on PATH")
    args = [f"-var={k}={v}" for k, v in cli.items()]
    _terraform(tmp_path, ["init", "-input=false", "-backend=false", "-no-color"])
    command = [terraform_binary() or "terraform", "plan", "-input=false", "-no-color", "-out=tfplan", *args]
    plan = subprocess.run(command, cwd=tmp_path, env=offline_env(env), capture_output=True, text=True, timeout=120,
                          check=False)
    assert plan.returncode == 0, plan.stderr
    shown = json.loads(_terraform(tmp_path, ["show", "-json", "tfplan"]).stdout)
    assert shown["planned_values"]["outputs"]["all"]["value"] == ours
