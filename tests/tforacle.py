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
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from validator.model import Unknown
from validator.sources.hcl import syntax as s
from validator.sources.hcl.evaluate import EvalError, Evaluator, to_json_value

TERRAFORM = shutil.which("terraform")


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
                body = f'output "o{i}" {{\n  value = {exprs[i]}\n}}\n'
                count = body.count("\n")
                lines.append((number, number + count - 1, i))
                text.append(body)
                number += count
            (tmp / "main.tf").write_text("".join(text), encoding="utf-8")
            if init:
                subprocess.run([TERRAFORM, "init", "-input=false", "-backend=false"], cwd=tmp, env=env,
                               capture_output=True, check=False, timeout=120)
                init = False
            run = subprocess.run([TERRAFORM, "plan", "-json", "-input=false", "-lock=false", "-out=p"], cwd=tmp,
                                 env=env, capture_output=True, text=True, check=False, timeout=300)
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
                    results[i] = outputs.get(f"o{i}", {}).get("value")
                pending = []
                break
            if unplaced and not bad:
                # An error terraform does not place on a line: fall back to one expression per plan.
                for i in pending:
                    results[i] = terraform([exprs[i]], workdir)[0] if len(pending) > 1 else Failed(run.stdout[-300:])
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


def compare(exprs: list[str]) -> list[Outcome]:
    theirs = terraform(exprs)
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
