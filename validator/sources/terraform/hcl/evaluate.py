"""Evaluate HCL expressions to Python values, keeping what cannot be known symbolic.

Values are ``str``, ``int``/``float``, ``bool``, ``None``, ``list``, ``dict``,
:class:`ResourceObj` (a reference to a declared resource) or
:class:`~validator.model.Unknown` (with the reason and the resources it
depends on). Unknowns propagate; nothing unknown is ever guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from validator import limits
from validator.model import AttributeUnknown, EncodedUnknown, Unknown
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl import values as tv
from validator.sources.terraform.hcl.functions import FUNCTIONS, NOT_STATIC, UNKNOWN_TOLERANT, unify
from validator.sources.terraform.hcl.values import (
    EvalError,
    RefStr,
    ResourceObj,
    contains_unknown,
    to_bool,
    to_json_value,
    to_number,
    to_str,
)
from validator.sources.terraform.records import refs_of

__all__ = [
    "EvalError",
    "Evaluator",
    "RefStr",
    "ResourceObj",
    "Scope",
    "first_unknown_argument",
    "get_attr",
    "index_value",
    "merge_unknown",
    "refs_of",
    "to_bool",
    "to_json_value",
    "to_number",
    "to_str",
]


class Scope(Protocol):
    """What an expression can read: the module's names and the local bindings."""

    def lookup(self, name: str, line: int) -> Any: ...


def merge_unknown(*values: Any, reason: str | None = None) -> Unknown:
    """One Unknown standing for several inputs, keeping the first reason and all refs."""
    reasons = [v.reason for v in values if isinstance(v, Unknown)]
    refs: list[str] = []

    seen: set[int] = set()  # shared parts once (see _deep_unknowns)

    def collect(v: Any, depth: int = 0) -> None:
        for r in refs_of(v):
            if r not in refs:
                refs.append(r)
        if depth < 64 and isinstance(v, list | dict) and id(v) not in seen:  # jsonencode({password = x})
            seen.add(id(v))
            for item in v.values() if isinstance(v, dict) else v:
                collect(item, depth + 1)

    for v in values:
        collect(v)
    return Unknown(reason or (reasons[0] if reasons else "value is not known statically"), tuple(refs))


def first_unknown_argument(*values: Any) -> Unknown | None:
    """The first of ``values`` that is itself unknown (unknowns nested inside a value do not count)."""
    for v in values:
        if isinstance(v, Unknown):
            return v
    return None


# --------------------------------------------------------------------------- #


class Evaluator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.bindings: dict[str, Any] = {}
        # Where each binding's value was written (provenance.Prov), for the tracer.
        self.provs: dict[str, Any] = {}
        self.budget = limits.budget()
        # While a trace runs (module.trace): id(node) -> the value this evaluator found for it, so the
        # tracer reads a condition, a key or an encoded value back instead of evaluating it again.
        self.memo: dict[int, Any] | None = None

    def child(self, **bindings: Any) -> Evaluator:
        ev = Evaluator(self.scope)
        ev.bindings = {**self.bindings, **bindings}
        ev.provs = dict(self.provs)
        return ev

    def traced(self, provs: dict[str, Any]) -> Evaluator:
        """This evaluator, knowing where its bindings' values were written."""
        self.provs.update(provs)
        return self

    def eval(self, expr: s.Expr) -> Any:
        try:
            return self._eval(expr)
        except (EvalError, limits.LimitExceeded) as exc:
            return Unknown(f"line {expr.line}: {exc}")
        except RecursionError:
            return Unknown(f"line {expr.line}: expression too deep")
        except (OverflowError, ValueError, TypeError, ZeroDivisionError, MemoryError) as exc:
            # A case the evaluator does not foresee stays unknown; never the exception's text (it may quote a value).
            return Unknown(f"line {expr.line}: cannot be evaluated ({type(exc).__name__})")

    def _eval(self, e: s.Expr) -> Any:
        budget = self.budget
        if budget.steps >= budget.limit:
            budget.tick()  # raises LimitExceeded, naming the limit
        budget.steps += 1
        kind = type(e)
        if kind is s.Literal:
            return e.value  # type: ignore[attr-defined]
        method = _EVAL_BY_TYPE.get(kind)
        if method is None:  # a subclass of a node type
            method = next((m for t, m in _EVAL_BY_TYPE.items() if isinstance(e, t)), None)
            if method is None:
                raise EvalError(f"cannot evaluate {type(e).__name__}")
        value = method(self, e)
        if self.memo is not None:
            self.memo[id(e)] = value
        return value

    def _name(self, e: s.Name) -> Any:
        if e.name in self.bindings:
            return self.bindings[e.name]
        return self.scope.lookup(e.name, e.line)

    def _index(self, e: s.Index) -> Any:
        return index_value(self._eval(e.obj), self._eval(e.key))

    def _tuple(self, e: s.TupleExpr) -> Any:
        return [self._eval(i) for i in e.items]

    def _object(self, e: s.ObjectExpr) -> Any:
        out: dict[str, Any] = {}
        for k, val in e.items:
            key = self._eval(k)
            if isinstance(key, Unknown):
                return merge_unknown(key)
            if key is None or isinstance(key, list | dict):
                raise EvalError("an object key must be a string")
            out[to_str(key)] = self._eval(val)
        return out

    # ----------------------------------------------------------------------- #
    def _template(self, e: s.Template) -> Any:
        if len(e.parts) == 1 and isinstance(e.parts[0], s.Expr):
            return self._eval(e.parts[0])  # "${x}" is x itself, of whatever type (terraform)
        return self._render(e.parts)

    def _render(self, parts: tuple[Any, ...]) -> Any:
        out = []
        length = 0
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            if isinstance(part, s.TemplateIf):
                cond = self._eval(part.cond)
                if isinstance(cond, Unknown):
                    return merge_unknown(cond)
                if cond is None:
                    raise EvalError("the condition of a template if is null")
                value = self._render(part.then if to_bool(cond) else part.other)
            elif isinstance(part, s.TemplateFor):
                value = self._render_for(part)
            else:
                value = self._eval(part)
            if isinstance(value, Unknown):
                return merge_unknown(value)
            if isinstance(value, list | dict):
                raise EvalError(f"cannot include {tv.type_name(value)} in a string template")
            out.append(to_str(value))
            length += len(out[-1])
            limits.check_string_length(length)
        if length:
            self.budget.build(characters=length)
        return "".join(out)

    def _render_for(self, part: s.TemplateFor) -> Any:
        coll = self._eval(part.collection)
        if isinstance(coll, Unknown):
            return coll
        if isinstance(coll, dict):
            pairs: list[tuple[Any, Any]] = sorted(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            raise EvalError("a template for over a value that is not a collection")
        out = []
        for k, item in pairs:
            binds = {part.value_var: item}
            if part.key_var:
                binds[part.key_var] = k
            value = self.child(**binds)._render(part.body)
            if isinstance(value, Unknown):
                return value
            out.append(value)
        return "".join(out)

    def _get_attr(self, e: s.GetAttr) -> Any:
        # Names whose attribute access the scope resolves itself (var.x, module.m.o, aws_x.y).
        if isinstance(e.obj, s.Name) and e.obj.name not in self.bindings:
            return self.scope.lookup(f"{e.obj.name}.{e.name}", e.line)
        if (
            isinstance(e.obj, s.GetAttr)
            and isinstance(e.obj.obj, s.Name)
            and e.obj.obj.name in ("module", "data")
            and e.obj.obj.name not in self.bindings
        ):
            return self.scope.lookup(f"{e.obj.obj.name}.{e.obj.name}.{e.name}", e.line)
        return get_attr(self._eval(e.obj), e.name)

    def _splat(self, e: s.Splat) -> Any:
        base = self._eval(e.obj)
        if isinstance(base, Unknown):
            return base
        if base is None:
            return []
        items = base
        if not isinstance(items, list):
            items = [items]
        out = []
        for item in items:
            value = item
            for kind, step in e.steps:
                if kind == "attr":
                    value = get_attr(value, step)
                else:
                    value = index_value(value, self._eval(step))
            out.append(value)
        return out

    def _conditional(self, e: s.Conditional) -> Any:
        cond = self._eval(e.cond)
        if isinstance(cond, Unknown):
            then, other = self._eval(e.then), self._eval(e.other)
            if not isinstance(then, Unknown) and then == other:
                return then
            return merge_unknown(cond)
        if cond is None:
            raise EvalError("the condition is null")
        chosen_expr, other_expr = (e.then, e.other) if to_bool(cond) else (e.other, e.then)
        chosen = self._eval(chosen_expr)
        try:
            other = self._eval(other_expr)
        except EvalError:
            # terraform ignores an error in the branch it does not take, yet converts the result to that
            # branch's type: a string (or null) stays as it is; anything else might become a string.
            if chosen is None or isinstance(chosen, str | Unknown):
                return chosen
            raise EvalError("the other result of the conditional cannot be evaluated, so the type is not known") \
                from None
        if contains_unknown(chosen) is None and contains_unknown(other) is None:
            # Both results are converted to one type, as terraform does ("1" for true ? 1 : "a").
            try:
                return unify([chosen, other])[0]
            except EvalError:
                raise EvalError("the two results of the conditional have different types") from None
        return chosen

    def _unary(self, e: s.Unary) -> Any:
        x = self._eval(e.operand)
        if isinstance(x, Unknown):
            return x
        if x is None:
            raise EvalError(f"null operand of {e.op}")
        if e.op == "!":
            return not to_bool(x)
        return tv.neg(to_number(x))

    def _binary(self, e: s.Binary) -> Any:
        left = self._eval(e.left)
        if e.op in ("&&", "||"):
            # No short circuit: terraform evaluates both operands, and an error in either is an error.
            right = self._eval(e.right)
            if left is None or right is None:
                raise EvalError(f"null operand of {e.op}")
            known = [x for x in (left, right) if not isinstance(x, Unknown)]
            bools = [to_bool(x) for x in known]
            if len(known) == 2:
                return bools[0] and bools[1] if e.op == "&&" else bools[0] or bools[1]
            if (e.op == "&&" and False in bools) or (e.op == "||" and True in bools):
                return e.op == "||"
            return merge_unknown(left, right)
        right = self._eval(e.right)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            if (e.op == "&&" and right is False) or (e.op == "||" and right is True):
                return right
            return merge_unknown(left, right)
        op = e.op
        if op == "==":
            return tv.equal(left, right)
        if op == "!=":
            return not tv.equal(left, right)
        if left is None or right is None:
            raise EvalError(f"null operand of {op}")
        a, b = to_number(left), to_number(right)
        if op in _ARITHMETIC:
            return _ARITHMETIC[op](a, b)
        if op in _COMPARISONS:
            return _COMPARISONS[op](tv.compare(a, b))
        raise EvalError(f"unknown operator {op}")

    def _call(self, e: s.Call) -> Any:
        name = e.name
        if name in ("try", "can"):
            for arg in e.args:
                value = self.eval(arg)
                if isinstance(value, Unknown) and value.reason.startswith("line "):
                    if name == "can":
                        return False
                    continue
                return True if name == "can" else value
            if name == "can":
                return True
            raise EvalError("no argument of try() could be evaluated")
        name = name.removeprefix("core::")
        func = FUNCTIONS.get(name)
        if func is None:
            why = NOT_STATIC.get(name)
            if why:
                return Unknown(f"function {name}() is not evaluated statically: it depends on {why}")
            return Unknown(f"function {name}() is not evaluated statically")
        args = [self._eval(a) for a in e.args]
        if e.expand_last:
            if not args or isinstance(args[-1], Unknown):
                return merge_unknown(*args)
            if not isinstance(args[-1], list):
                raise EvalError(f"{name}(): the argument before ... must be a list")
            args = args[:-1] + args[-1]
        unknown = first_unknown_argument(*args) if name not in UNKNOWN_TOLERANT else None
        if unknown is None and name in _ENCODERS:
            deep = _deep_unknowns(args)
            if deep:  # an encoder needs every value: the result is unknown, and depends on all of them
                refs = tuple(dict.fromkeys(r for u in deep for r in u.refs))
                if name == "jsonencode" and len(args) == 1:
                    # The string is unknown, its structure is not: an IAM policy can still be read.
                    return EncodedUnknown(deep[0].reason, refs, args[0])
                return Unknown(deep[0].reason, refs)
        if unknown is None and name not in UNKNOWN_TOLERANT and name not in _ELEMENT_TOLERANT:
            unknown = _nested_unknown(args)
        if unknown is not None:
            return merge_unknown(*args, reason=unknown.reason)
        try:
            limits.guard_call(name, args)
            return limits.check_value(func(*args))
        except limits.LimitExceeded:
            raise
        except EvalError as exc:
            nested = _nested_unknown(args)
            if nested is not None:  # the error may come from a value not known yet
                return merge_unknown(*args, reason=nested.reason)
            raise EvalError(f"{name}(): {exc}") from None
        except TypeError:
            raise EvalError(f"{name}(): wrong number or kind of arguments") from None
        except RecursionError:
            raise EvalError(f"{name}(): value nested too deeply") from None
        except (ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError, AttributeError,
                MemoryError) as exc:
            # Never the exception's text: it may quote an argument.
            raise EvalError(f"{name}(): cannot be evaluated ({type(exc).__name__})") from None

    def _for(self, e: s.ForExpr) -> Any:
        coll = self._eval(e.collection)
        if isinstance(coll, Unknown):
            return coll
        if isinstance(coll, dict):
            pairs = sorted(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            raise EvalError("for expression over a value that is not a collection")
        tuple_out: list[Any] = []
        object_out: dict[str, Any] = {}
        for k, v in pairs:
            binds = {e.value_var: v}
            if e.key_var:
                binds[e.key_var] = k
            ev = self.child(**binds)
            if e.cond is not None:
                c = ev._eval(e.cond)
                if isinstance(c, Unknown):
                    return c
                if not to_bool(c):
                    continue
            if e.key is None:
                tuple_out.append(ev._eval(e.value))
            else:
                key = ev._eval(e.key)
                if isinstance(key, Unknown):
                    return key
                value = ev._eval(e.value)
                if key is None:
                    raise EvalError("a for expression key is null")
                if e.grouping:
                    object_out.setdefault(to_str(key), []).append(value)
                elif to_str(key) in object_out:
                    raise EvalError("duplicate key in a for expression (use ... to group)")
                else:
                    object_out[to_str(key)] = value
        return tuple_out if e.key is None else object_out


# The method evaluating each kind of node (a literal is read in _eval itself).
_EVAL_BY_TYPE: dict[type, Callable[[Evaluator, Any], Any]] = {
    s.Literal: lambda ev, e: e.value,
    s.Template: Evaluator._template,
    s.Name: Evaluator._name,
    s.GetAttr: Evaluator._get_attr,
    s.Index: Evaluator._index,
    s.Splat: Evaluator._splat,
    s.TupleExpr: Evaluator._tuple,
    s.ObjectExpr: Evaluator._object,
    s.Conditional: Evaluator._conditional,
    s.Unary: Evaluator._unary,
    s.Binary: Evaluator._binary,
    s.Call: Evaluator._call,
    s.ForExpr: Evaluator._for,
}

# Functions that serialise their whole argument, so an unknown at any depth makes the result unknown.
_ENCODERS = frozenset({"jsonencode", "yamlencode"})


def _deep_unknowns(value: Any) -> list[Unknown]:
    """Every Unknown inside a value, at any depth of lists and maps.

    Each list or map is visited once: values share parts (``[local.a, local.a]``), and a walk
    that follows every path would take time exponential in the doublings.
    """
    found: list[Unknown] = []
    seen: set[int] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Unknown):
            found.append(v)
        elif isinstance(v, dict | list | tuple):
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(reversed(list(v.values() if isinstance(v, dict) else v)))
    return found


def _nested_unknown(args: list[Any]) -> Unknown | None:
    for a in args:
        found = contains_unknown(a)
        if found is not None:
            return found
    return None


def get_attr(value: Any, name: str) -> Any:
    if isinstance(value, AttributeUnknown):
        return AttributeUnknown(value.reason, value.refs, f"{value.path}.{name}")
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceObj):
        return value.attr(name)
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise EvalError(f"object has no attribute {name!r}")
    if isinstance(value, list):
        # Attribute access on a list of resources (count without index) is an error in Terraform.
        raise EvalError(f"cannot read .{name} from a list; index it first")
    raise EvalError(f"cannot read .{name} from {tv.type_name(value)}")


def index_value(value: Any, key: Any) -> Any:
    if isinstance(value, AttributeUnknown) and isinstance(key, int | str) and not isinstance(key, bool):
        return AttributeUnknown(value.reason, value.refs, f"{value.path}[{json.dumps(key)}]")
    if isinstance(value, Unknown):
        element = getattr(value, "element", None)  # an UnknownList: distinct indexes, distinct elements
        if element is not None and not isinstance(key, Unknown | bool) and isinstance(key, int | float | str):
            try:
                i = to_number(key)
            except EvalError:
                return value
            return element(int(i)) if i == int(i) else value
        return value
    if isinstance(key, Unknown):
        if isinstance(value, list) and value:
            return merge_unknown(key, *[x for x in value if isinstance(x, Unknown | ResourceObj)])
        return merge_unknown(key)
    if key is None:
        raise EvalError("the index is null")
    if isinstance(value, list):
        try:
            i = tv.to_int(key, "the index")
        except EvalError:
            raise EvalError("the index is not a whole number in range") from None
        if not 0 <= i < len(value):
            raise EvalError(f"index {i} out of range for a list of {len(value)}")
        return value[i]
    if isinstance(value, dict):
        if isinstance(key, list | dict):
            raise EvalError(f"{tv.type_name(key)} as a map key")
        k = to_str(key)
        if k not in value:
            raise EvalError("no such key in the map")
        return value[k]
    raise EvalError(f"cannot index {tv.type_name(value)}")


_ARITHMETIC = {"+": tv.add, "-": tv.sub, "*": tv.mul, "/": tv.div, "%": tv.mod}
_COMPARISONS = {
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}
# Functions whose result does not depend on every element (length of a list of unknowns is known).
_ELEMENT_TOLERANT = {"length", "tolist", "concat", "element", "slice", "one", "merge", "lookup", "keys",
                     "values", "coalescelist", "flatten", "reverse", "toset", "distinct", "compact"}
