"""Terraform as the oracle: evaluate many HCL expressions with terraform and with our evaluator.

terraform evaluates a configuration of only ``locals`` and ``output`` blocks offline, with no
provider and no credentials. Every expression becomes one output of a single plan; an expression
terraform rejects is dropped (its diagnostic names its line) and the plan is made again, so one
run of terraform answers a whole batch.

Values are compared in terraform's JSON terms: numbers (compared exactly, as decimals), strings,
bools, lists (tuples and sets), maps (objects) and null.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from validator.model import Unknown
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.evaluate import EvalError, Evaluator, to_json_value

TERRAFORM = shutil.which("terraform")
_OUTPUT_NAME = re.compile(r'output value \\?"o(\d+)\\?"')


class Failed:
    """terraform rejected the expression."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"Failed({self.message!r})"


@dataclass
class Outcome:
    expr: str
    ours: Any  # a JSON value, or Unknown
    theirs: Any  # a JSON value, or Failed

    @property
    def claimed(self) -> bool:
        return not isinstance(self.ours, Unknown)

    @property
    def agrees(self) -> bool:
        """The oracle's rule: a value we claim known is terraform's; where terraform fails we claim none."""
        if not self.claimed:
            return True
        if isinstance(self.theirs, Failed):
            return False
        return same(self.ours, self.theirs)


def same(a: Any, b: Any) -> bool:
    """Equality of JSON values with exact numbers (bool is not a number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | Decimal | float) and isinstance(b, int | Decimal | float):
        return Decimal(a) == Decimal(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class _NoScope:
    def lookup(self, name: str, line: int) -> Any:
        raise EvalError(f"{name} is not available to a bare expression")


def ours(expr: str) -> Any:
    """Our evaluator on one expression: its JSON value, or Unknown."""
    try:
        pf = s.parse_text(f"x = {expr}\n", Path("oracle.tf"), "oracle.tf")
    except Exception as exc:  # a parse error is "not known"
        return Unknown(f"parse error: {exc}")
    value = Evaluator(_NoScope()).eval(pf.body.attributes["x"].expr)
    return to_json_value(value)


def terraform(exprs: list[str], workdir: Path | None = None) -> list[Any]:
    """terraform's value of each expression (JSON), or Failed."""
    if TERRAFORM is None:
        raise RuntimeError("terraform is not on PATH")
    results: list[Any] = [None] * len(exprs)
    pending = list(range(len(exprs)))
    tmp = Path(tempfile.mkdtemp(prefix="tforacle-", dir=workdir))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    try:
        init = True
        for _round in range(12):
            if not pending:
                break
            lines: list[tuple[int, int, int]] = []  # (first line, last line, expression index)
            text: list[str] = []
            number = 1
            for i in pending:
                # jsonencode: an infinity is then an error placed on its line, not a failure to write the plan.
                body = f'output "o{i}" {{\n  value = jsonencode({exprs[i]}\n)\n}}\n'
                count = body.count("\n")
                lines.append((number, number + count - 1, i))
                text.append(body)
                number += count
            (tmp / "main.tf").write_text("".join(text), encoding="utf-8")
            if init:
                subprocess.run([TERRAFORM, "init", "-input=false", "-backend=false"], cwd=tmp, env=env,
                               capture_output=True, check=False, timeout=120)
                init = False
            started = time.monotonic()
            run = subprocess.run([TERRAFORM, "plan", "-json", "-input=false", "-lock=false", "-out=p"], cwd=tmp,
                                 env=env, capture_output=True, text=True, check=False, timeout=300)
            if os.environ.get("TFORACLE_DEBUG"):
                print(f"round {_round}: {len(pending)} outputs, {time.monotonic() - started:.1f}s", flush=True)
            bad: dict[int, str] = {}
            unplaced = False
            for raw in run.stdout.splitlines():
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                diag = msg.get("diagnostic")
                if not diag or diag.get("severity") != "error":
                    continue
                start = (diag.get("range") or {}).get("start", {}).get("line")
                owner = next((i for first, last, i in lines if start is not None and first <= start <= last), None)
                named = _OUTPUT_NAME.search(diag.get("detail", ""))
                if owner is None and named and int(named.group(1)) in pending:
                    owner = int(named.group(1))
                if owner is None:
                    unplaced = True
                    continue
                bad.setdefault(owner, f"{diag.get('summary', '')}: {diag.get('detail', '')}".strip())
            if run.returncode == 0 and not bad:
                show = subprocess.run([TERRAFORM, "show", "-json", "p"], cwd=tmp, env=env, capture_output=True,
                                      text=True, check=True, timeout=120)
                plan = json.loads(show.stdout, parse_float=Decimal)
                outputs = plan.get("planned_values", {}).get("outputs", {})
                for i in pending:
                    out = outputs.get(f"o{i}", {})
                    # No value: terraform knows it only after apply (timestamp()), so no value may be claimed.
                    results[i] = (json.loads(out["value"], parse_float=Decimal) if "value" in out
                                  else Failed("known only after apply"))
                pending = []
                break
            if (unplaced or run.returncode != 0) and not bad:
                # An error terraform does not place: halve the batch until it is one expression.
                if len(pending) == 1:
                    results[pending[0]] = Failed(run.stdout[-300:])
                else:
                    half = len(pending) // 2
                    for part in (pending[:half], pending[half:]):
                        for i, value in zip(part, terraform([exprs[i] for i in part], workdir), strict=True):
                            results[i] = value
                pending = []
                break
            for i, message in bad.items():
                results[i] = Failed(message)
            pending = [i for i in pending if i not in bad]
        for i in pending:
            results[i] = Failed("terraform did not converge on this batch")
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


BATCH = 250  # outputs per plan: terraform's plan time grows faster than its number of outputs


def terraform_batched(exprs: list[str], workers: int = 2) -> list[Any]:
    """``terraform`` on batches of ``BATCH`` expressions, ``workers`` plans at a time."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [exprs[i: i + BATCH] for i in range(0, len(exprs), BATCH)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(terraform, chunks))
    return [value for chunk in answers for value in chunk]


def compare(exprs: list[str]) -> list[Outcome]:
    theirs = terraform_batched(exprs)
    return [Outcome(e, ours(e), t) for e, t in zip(exprs, theirs, strict=True)]


def functions_called(exprs: list[str]) -> set[str]:
    """Names of the functions the expressions call."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, s.Call):
            names.add(node.name)
        if isinstance(node, s.Expr):
            for value in vars(node).values():
                walk(value)
        elif isinstance(node, tuple | list):
            for item in node:
                walk(item)

    for expr in exprs:
        try:
            pf = s.parse_text(f"x = {expr}\n", Path("oracle.tf"), "oracle.tf")
        except Exception:
            continue
        walk(pf.body.attributes["x"].expr)
    return names


def terraform_functions() -> list[str]:
    """terraform's own function list (``terraform metadata functions -json``), without the core:: aliases."""
    if TERRAFORM is None:
        return []
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}
    out = subprocess.run([TERRAFORM, "metadata", "functions", "-json"], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    return sorted(n for n in json.loads(out.stdout)["function_signatures"] if "::" not in n)


# --------------------------------------------------------------------------- #
# Generated expressions (hypothesis): typed, so most are valid, plus untyped mixes for the error paths

def strategies() -> Any:
    """The hypothesis strategy of expression texts (imported lazily: bench and tests share it)."""
    from hypothesis import strategies as st

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{") + '"'

    small_int = st.integers(-50, 50).map(str)
    big_int = st.integers(-(10**40), 10**40).map(str)
    decimal = st.sampled_from(["0.1", "0.2", "0.5", "1.5", "2.25", "-3.75", "1e3", "1e-3", "1e999", "12.5e2",
                               "0.3333", "100.0", "7e0", "1e20", "1e21", "123456789.123456789"])
    number_lit = st.one_of(small_int, small_int, big_int, decimal)
    text = st.text(alphabet="abcxyzAB-_ ./:019é", max_size=8)
    string_lit = text.map(q)
    bool_lit = st.sampled_from(["true", "false"])

    def number(children: Any) -> Any:
        return st.one_of(
            number_lit,
            st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%"]), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            children.map(lambda x: f"(-{x})"),
            st.tuples(st.sampled_from(["abs", "ceil", "floor", "signum"]), children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["max", "min"]), st.lists(children, min_size=1, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(children, children).map(lambda t: f"pow({t[0]}, {t[1]})"),
            string_lit.map(lambda x: f"length({x})"),
            st.lists(number_lit, max_size=4).map(lambda xs: f"length([{', '.join(xs)}])"),
            st.lists(number_lit, min_size=1, max_size=4).map(lambda xs: f"sum([{', '.join(xs)}])"),
            small_int.map(lambda x: f'tonumber("{x}")'),
        )

    numbers = st.recursive(number_lit, number, max_leaves=6)

    def string(children: Any) -> Any:
        return st.one_of(
            string_lit,
            st.tuples(string_lit, children, string_lit).map(lambda t: f'"{t[0][1:-1]}${{{t[1]}}}{t[2][1:-1]}"'),
            st.tuples(st.sampled_from(["upper", "lower", "title", "trimspace", "chomp", "strrev", "base64encode",
                                       "md5", "sha1", "sha256", "urlencode", "jsonencode", "tostring"]),
                      children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(children, st.integers(-3, 5), st.integers(-1, 5)).map(
                lambda t: f"substr({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(children, children, children).map(lambda t: f"replace({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(string_lit, st.lists(children, max_size=3)).map(lambda t: f"join({t[0]}, [{', '.join(t[1])}])"),
            st.tuples(st.sampled_from(['"%s"', '"%d"', '"%5.2f"', '"%q"', '"%v-%v"', '"%x"', '"%03d|%s"', '"%e"',
                                       '"%-4s|"', '"%t"', '"%%"']),
                      st.lists(st.one_of(numbers, children, bool_lit), max_size=2)).map(
                lambda t: f"format({', '.join([t[0], *t[1]])})"),
            numbers.map(lambda x: f'"${{{x}}}"'),
            numbers.map(lambda x: f'"n=${{{x}}}"'),
            st.tuples(children, children).map(lambda t: f"trimprefix({t[0]}, {t[1]})"),
            st.tuples(children, children).map(lambda t: f"trimsuffix({t[0]}, {t[1]})"),
            st.tuples(st.integers(0, 4), children).map(lambda t: f"indent({t[0]}, {t[1]})"),
            st.tuples(st.sampled_from(['"[a-z]+"', '"[0-9]"', '"^a"', '"(x)(y)?"', '"b|c"', '"a*"', r'"\\d+"']),
                      children).map(lambda t: f"regexall({t[0]}, {t[1]})[0]"),
            st.tuples(st.sampled_from(['"10.0.0.0/16"', '"192.168.0.0/24"', '"fd00::/56"']), st.integers(0, 8),
                      st.integers(-2, 300)).map(lambda t: f"cidrsubnet({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(st.sampled_from(['"10.0.0.0/16"', '"192.168.0.0/28"']), st.integers(-20, 20)).map(
                lambda t: f"cidrhost({t[0]}, {t[1]})"),
        )

    strings = st.recursive(string_lit, string, max_leaves=5)

    def boolean(children: Any) -> Any:
        return st.one_of(
            bool_lit,
            st.tuples(children, st.sampled_from(["&&", "||"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            children.map(lambda x: f"!{x}"),
            st.tuples(numbers, st.sampled_from(["<", ">", "<=", ">=", "==", "!="]), numbers).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(strings, st.sampled_from(["==", "!="]), strings).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["startswith", "endswith", "strcontains"]), strings, strings).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(st.lists(strings, max_size=3), strings).map(lambda t: f"contains([{', '.join(t[0])}], {t[1]})"),
        )

    bools = st.recursive(bool_lit, boolean, max_leaves=5)
    scalar = st.one_of(numbers, strings, bools, st.just("null"))
    str_list = st.lists(strings, max_size=4).map(lambda xs: f"[{', '.join(xs)}]")
    num_list = st.lists(numbers, max_size=4).map(lambda xs: f"[{', '.join(xs)}]")
    mixed_list = st.lists(scalar, max_size=4).map(lambda xs: f"[{', '.join(xs)}]")
    key = st.text(alphabet="abcxy", min_size=1, max_size=3)
    a_map = st.dictionaries(key, scalar, max_size=4).map(
        lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}")
    lists = st.one_of(str_list, num_list, mixed_list)

    def collection(children: Any) -> Any:
        return st.one_of(
            st.tuples(st.sampled_from(["distinct", "sort", "reverse", "compact", "toset", "tolist", "flatten"]),
                      lists).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(lists, lists).map(lambda t: f"concat({t[0]}, {t[1]})"),
            st.tuples(lists, st.integers(-2, 5)).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(lists, st.integers(-2, 5)).map(lambda t: f"element({t[0]}, {t[1]})"),
            st.tuples(lists, st.integers(0, 4), st.integers(0, 4)).map(lambda t: f"slice({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(lists, st.integers(0, 3)).map(lambda t: f"chunklist({t[0]}, {t[1]})"),
            st.tuples(a_map, a_map).map(lambda t: f"merge({t[0]}, {t[1]})"),
            st.tuples(st.sampled_from(["keys", "values", "length", "tomap"]), a_map).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(a_map, key, scalar).map(lambda t: f'lookup({t[0]}, "{t[1]}", {t[2]})'),
            st.tuples(a_map, key).map(lambda t: f'{t[0]}["{t[1]}"]'),
            st.tuples(str_list, lists).map(lambda t: f"zipmap({t[0]}, {t[1]})"),
            st.tuples(str_list, str_list).map(lambda t: f"setunion({t[0]}, {t[1]})"),
            st.tuples(str_list, str_list).map(lambda t: f"setintersection({t[0]}, {t[1]})"),
            st.tuples(str_list, str_list).map(lambda t: f"setsubtract({t[0]}, {t[1]})"),
            st.tuples(str_list, str_list).map(lambda t: f"setproduct({t[0]}, {t[1]})"),
            lists.map(lambda x: f"[for i, v in {x} : v if i != 1]"),
            a_map.map(lambda x: f"{{for k, v in {x} : k => v}}"),
            lists.map(lambda x: f"{x}[*]"),
            st.tuples(bools, lists, lists).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(bools, scalar, scalar).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(lists, scalar).map(lambda t: f"coalesce({', '.join([t[0][1:-1] or 'null', t[1]])})"),
            st.tuples(strings, strings).map(lambda t: f"split({t[0]}, {t[1]})"),
            st.tuples(st.sampled_from(["one", "alltrue", "anytrue", "sum", "index"]), lists).map(
                lambda t: f"{t[0]}({t[1]})" if t[0] != "index" else f'index({t[1]}, "a")'),
            scalar.map(lambda x: f"jsondecode(jsonencode({x}))"),
            a_map.map(lambda x: f"jsondecode(jsonencode({x}))"),
            lists.map(lambda x: f"jsonencode({x})"),
        )

    return st.one_of(numbers, strings, bools, collection(scalar), mixed_list, a_map)
