"""Evaluate HCL expressions to Python values, keeping what cannot be known symbolic.

Values are ``str``, ``int``/``float``, ``bool``, ``None``, ``list``, ``dict``,
:class:`ResourceObj` (a reference to a declared resource) or
:class:`~validator.model.Unknown` (with the reason and the resources it
depends on). Unknowns propagate; nothing unknown is ever guessed.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from validator import limits
from validator.model import Unknown
from validator.sources.hcl import syntax as s


class RefStr(str):
    """A known string that is also a reference to resources (e.g. a cluster id)."""

    refs: tuple[str, ...] = ()

    def __new__(cls, value: str, refs: tuple[str, ...]) -> RefStr:
        obj = super().__new__(cls, value)
        obj.refs = refs
        return obj


@dataclass
class ResourceObj:
    """A declared resource instance, whose attributes are evaluated on demand."""

    address: str
    get: Callable[[str], Any]  # attribute name -> value

    def attr(self, name: str) -> Any:
        return self.get(name)


class Scope(Protocol):
    """What an expression can read: the module's names and the local bindings."""

    def lookup(self, name: str, line: int) -> Any: ...


def refs_of(value: Any) -> tuple[str, ...]:
    """The resource addresses a value refers to."""
    if isinstance(value, Unknown | RefStr):
        return value.refs
    if isinstance(value, ResourceObj):
        return (value.address,)
    return ()


def merge_unknown(*values: Any, reason: str | None = None) -> Unknown:
    """One Unknown standing for several inputs, keeping the first reason and all refs."""
    reasons = [v.reason for v in values if isinstance(v, Unknown)]
    refs: list[str] = []
    for v in values:
        for r in refs_of(v):
            if r not in refs:
                refs.append(r)
        if isinstance(v, list):
            for item in v:
                for r in refs_of(item):
                    if r not in refs:
                        refs.append(r)
    return Unknown(reason or (reasons[0] if reasons else "value is not known statically"), tuple(refs))


def first_unknown(*values: Any) -> Unknown | None:
    for v in values:
        if isinstance(v, Unknown):
            return v
    return None


class EvalError(Exception):
    """An expression that cannot be evaluated (type error, bad call): becomes Unknown."""


# --------------------------------------------------------------------------- #


class Evaluator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.bindings: dict[str, Any] = {}
        # Where each binding's value was written (provenance.Prov), for the tracer.
        self.provs: dict[str, Any] = {}
        self.budget = limits.budget()

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

    def _eval(self, e: s.Expr) -> Any:
        self.budget.tick()
        if isinstance(e, s.Literal):
            return e.value
        if isinstance(e, s.Template):
            return self._template(e)
        if isinstance(e, s.Name):
            if e.name in self.bindings:
                return self.bindings[e.name]
            return self.scope.lookup(e.name, e.line)
        if isinstance(e, s.GetAttr):
            return self._get_attr(e)
        if isinstance(e, s.Index):
            return index_value(self._eval(e.obj), self._eval(e.key))
        if isinstance(e, s.Splat):
            return self._splat(e)
        if isinstance(e, s.TupleExpr):
            return [self._eval(i) for i in e.items]
        if isinstance(e, s.ObjectExpr):
            out: dict[str, Any] = {}
            for k, v in e.items:
                key = self._eval(k)
                if isinstance(key, Unknown):
                    return merge_unknown(key)
                out[to_str(key)] = self._eval(v)
            return out
        if isinstance(e, s.Conditional):
            return self._conditional(e)
        if isinstance(e, s.Unary):
            return self._unary(e)
        if isinstance(e, s.Binary):
            return self._binary(e)
        if isinstance(e, s.Call):
            return self._call(e)
        if isinstance(e, s.ForExpr):
            return self._for(e)
        raise EvalError(f"cannot evaluate {type(e).__name__}")

    # ----------------------------------------------------------------------- #
    def _template(self, e: s.Template) -> Any:
        out = []
        length = 0
        for part in e.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self._eval(part)
            if isinstance(value, Unknown):
                return merge_unknown(value)
            out.append(to_str(value))
            length += len(out[-1])
            limits.check_string_length(length)
        if length:
            self.budget.build(characters=length)
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
        return self._eval(e.then) if to_bool(cond) else self._eval(e.other)

    def _unary(self, e: s.Unary) -> Any:
        v = self._eval(e.operand)
        if isinstance(v, Unknown):
            return v
        if e.op == "!":
            return not to_bool(v)
        return -to_number(v)

    def _binary(self, e: s.Binary) -> Any:
        left = self._eval(e.left)
        if e.op in ("&&", "||") and not isinstance(left, Unknown):
            lb = to_bool(left)
            if e.op == "&&" and not lb:
                return False
            if e.op == "||" and lb:
                return True
            right = self._eval(e.right)
            return right if isinstance(right, Unknown) else to_bool(right)
        right = self._eval(e.right)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            if (e.op == "&&" and right is False) or (e.op == "||" and right is True):
                return right
            return merge_unknown(left, right)
        op = e.op
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        a, b = to_number(left), to_number(right)
        if op == "+":
            return _num(a + b)
        if op == "-":
            return _num(a - b)
        if op == "*":
            return _num(a * b)
        if op == "/":
            if b == 0:
                raise EvalError("division by zero")
            return _num(a / b)
        if op == "%":
            if b == 0:
                raise EvalError("division by zero")
            return _num(math.fmod(a, b))
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
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
        func = FUNCTIONS.get(name)
        if func is None:
            return Unknown(f"function {name}() is not evaluated statically")
        args = [self._eval(a) for a in e.args]
        if e.expand_last and args and isinstance(args[-1], list):
            args = args[:-1] + args[-1]
        unknown = first_unknown(*args) if name != "coalesce" else None
        if unknown is None and name not in _UNKNOWN_TOLERANT:
            unknown = _nested_unknown(args)
        if unknown is None and name in _ENCODERS:
            deep = _deep_unknowns(args)
            if deep:  # an encoder needs every value: the result is unknown, and depends on all of them
                refs = tuple(dict.fromkeys(r for u in deep for r in u.refs))
                return Unknown(deep[0].reason, refs)
        if unknown is not None:
            return merge_unknown(*args, reason=unknown.reason)
        try:
            limits.guard_call(name, args)
            return limits.check_value(func(*args))
        except (EvalError, limits.LimitExceeded):
            raise
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError, AttributeError) as exc:
            raise EvalError(f"{name}(): {exc}") from None

    def _for(self, e: s.ForExpr) -> Any:
        coll = self._eval(e.collection)
        if isinstance(coll, Unknown):
            return coll
        if isinstance(coll, dict):
            pairs = list(coll.items())
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
                if e.grouping:
                    object_out.setdefault(to_str(key), []).append(value)
                else:
                    object_out[to_str(key)] = value
        return tuple_out if e.key is None else object_out


# Functions that serialise their whole argument, so an unknown at any depth makes the result unknown.
_ENCODERS = frozenset({"jsonencode", "yamlencode"})


def _deep_unknowns(value: Any) -> list[Unknown]:
    """Every Unknown inside a value, at any depth of lists and maps."""
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, dict):
        return [u for v in value.values() for u in _deep_unknowns(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in _deep_unknowns(v)]
    return []


def _nested_unknown(args: list[Any]) -> Unknown | None:
    for a in args:
        if isinstance(a, list):
            found = first_unknown(*a)
            if found:
                return found
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def _num(x: float) -> int | float:
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def get_attr(value: Any, name: str) -> Any:
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
    raise EvalError(f"cannot read .{name} from {type(value).__name__}")


def index_value(value: Any, key: Any) -> Any:
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
            return merge_unknown(key, *[v for v in value if isinstance(v, Unknown | ResourceObj)])
        return merge_unknown(key)
    if isinstance(value, list):
        i = int(to_number(key))
        if not 0 <= i < len(value):
            raise EvalError(f"index {i} out of range for a list of {len(value)}")
        return value[i]
    if isinstance(value, dict):
        k = to_str(key)
        if k not in value:
            raise EvalError(f"no key {k!r}")
        return value[k]
    raise EvalError(f"cannot index {type(value).__name__}")


# --------------------------------------------------------------------------- #
# Conversions


def to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    if value is None:
        raise EvalError("null in a string")
    raise EvalError(f"cannot use a {type(value).__name__} as a string")


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return _num(float(value)) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise EvalError(f"{value!r} is not a number") from None
    raise EvalError(f"a {type(value).__name__} is not a number")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise EvalError(f"{value!r} is not a bool")


# --------------------------------------------------------------------------- #
# Functions (the common part of Terraform's library)


def _format(fmt: str, *args: Any) -> str:
    out, i, n = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        j = i + 1
        while j < len(fmt) and fmt[j] in "#+- 0123456789.":
            j += 1
        if j >= len(fmt):
            raise EvalError("format: unfinished verb")
        verb = fmt[j]
        if verb == "%":
            out.append("%")
        else:
            if n >= len(args):
                raise EvalError("format: not enough arguments")
            arg = args[n]
            n += 1
            spec = fmt[i + 1 : j]
            if verb == "s":
                out.append(("%" + spec + "s") % to_str(arg))
            elif verb == "d":
                out.append(("%" + spec + "d") % int(to_number(arg)))
            elif verb in "fFeEgG":
                out.append(("%" + spec + verb) % float(to_number(arg)))
            elif verb == "q":
                out.append(json.dumps(to_str(arg)))
            elif verb == "v":
                out.append(to_str(arg) if not isinstance(arg, list | dict) else json.dumps(arg))
            elif verb == "t":
                out.append(to_str(to_bool(arg)))
            else:
                raise EvalError(f"format: verb %{verb} is not supported")
        i = j + 1
    return "".join(out)


def _lookup(m: dict[str, Any], key: Any, *default: Any) -> Any:
    k = to_str(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise EvalError(f"lookup: no key {k!r} and no default")


def _coalesce(*args: Any) -> Any:
    for a in args:
        if isinstance(a, Unknown):
            return a
        if a is not None and a != "":
            return a
    raise EvalError("coalesce: no non-null argument")


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise EvalError("merge: arguments must be maps")
        out.update(m)
    return out


def _element(lst: list[Any], i: Any) -> Any:
    if not lst:
        raise EvalError("element: empty list")
    return lst[int(to_number(i)) % len(lst)]


def _toset(lst: Any) -> list[Any]:
    out: list[Any] = []
    seen: set[tuple[str, Any]] = set()  # scalars: linear, not quadratic, in the length
    for x in lst:
        if isinstance(x, str | int | float | bool):
            key = (type(x).__name__, x)
            if key not in seen:
                seen.add(key)
                out.append(x)
        elif x not in out:
            out.append(x)
    return sorted(out, key=lambda v: (str(type(v)), str(v))) if all(isinstance(x, str) for x in out) else out


def _length(v: Any) -> int:
    if isinstance(v, str | list | dict):
        return len(v)
    raise EvalError("length: argument has no length")


def _flatten(v: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in v:
        if isinstance(x, list):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def _cidrsubnet(prefix: str, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    bits, num = int(to_number(newbits)), int(to_number(netnum))
    new_prefix = net.prefixlen + bits
    if bits < 0 or new_prefix > net.max_prefixlen:
        raise EvalError(f"cidrsubnet: {bits} new bits do not fit a /{net.prefixlen} prefix")
    if not 0 <= num < 2**bits:
        raise EvalError("cidrsubnet: netnum out of range")
    address = int(net.network_address) + (num << (net.max_prefixlen - new_prefix))
    return str(ipaddress.ip_network((address, new_prefix)))


def _range(*a: Any) -> list[int | float]:
    nums = [to_number(x) for x in a]
    if len(nums) == 1:
        return list(range(int(nums[0])))
    step = nums[2] if len(nums) > 2 else 1
    return list(range(int(nums[0]), int(nums[1]), int(step)))


def _tonumber(v: Any) -> Any:
    return None if v is None else to_number(v)


def _tobool(v: Any) -> Any:
    return None if v is None else to_bool(v)


def _tostring(v: Any) -> Any:
    return None if v is None else to_str(v)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format": _format,
    "lower": lambda x: to_str(x).lower(),
    "upper": lambda x: to_str(x).upper(),
    "title": lambda x: to_str(x).title(),
    "trimspace": lambda x: to_str(x).strip(),
    "trim": lambda x, c: to_str(x).strip(to_str(c)),
    "trimprefix": lambda x, p: to_str(x)[len(p) :] if to_str(x).startswith(p) else x,
    "trimsuffix": lambda x, p: to_str(x)[: -len(p)] if p and to_str(x).endswith(p) else x,
    "replace": lambda x, a, b: to_str(x).replace(to_str(a), to_str(b)),
    "substr": lambda x, o, n: to_str(x)[int(o) : (None if int(n) < 0 else int(o) + int(n))],
    "join": lambda sep, lst: to_str(sep).join(to_str(i) for i in lst),
    "split": lambda sep, x: to_str(x).split(to_str(sep)),
    "startswith": lambda x, p: to_str(x).startswith(to_str(p)),
    "endswith": lambda x, p: to_str(x).endswith(to_str(p)),
    "concat": lambda *ls: [i for lst in ls for i in lst],
    "tolist": lambda x: list(x),
    "toset": _toset,
    "tomap": lambda x: dict(x),
    "tonumber": _tonumber,
    "tostring": _tostring,
    "tobool": _tobool,
    "merge": _merge,
    "lookup": _lookup,
    "coalesce": _coalesce,
    "coalescelist": lambda *ls: next((lst for lst in ls if lst), []),
    "length": _length,
    "element": _element,
    "keys": lambda m: sorted(m.keys()),
    "values": lambda m: [m[k] for k in sorted(m.keys())],
    "contains": lambda lst, v: v in lst,
    "distinct": _toset,
    "flatten": _flatten,
    "compact": lambda lst: [x for x in lst if x not in (None, "")],
    "slice": lambda lst, a, b: lst[int(a) : int(b)],
    "reverse": lambda lst: list(reversed(lst)),
    "sort": lambda lst: sorted(to_str(x) for x in lst),
    "zipmap": lambda ks, vs: dict(zip([to_str(k) for k in ks], vs, strict=False)),
    "range": _range,
    "min": lambda *a: _num(min(to_number(x) for x in a)),
    "max": lambda *a: _num(max(to_number(x) for x in a)),
    "abs": lambda x: abs(to_number(x)),
    "ceil": lambda x: math.ceil(to_number(x)),
    "floor": lambda x: math.floor(to_number(x)),
    "jsonencode": lambda x: json.dumps(x, separators=(",", ":")),
    "jsondecode": lambda x: json.loads(to_str(x)),
    "cidrsubnet": _cidrsubnet,
    "one": lambda lst: (lst[0] if lst else None) if len(lst) <= 1 else (_ for _ in ()).throw(
        EvalError("one: more than one element")
    ),
}

# Functions that see unknown arguments themselves (they may not need every argument).
_UNKNOWN_TOLERANT = {"coalesce", "length", "tolist", "toset", "concat", "element", "distinct", "flatten",
                     "compact", "slice", "one", "merge", "lookup", "keys", "values"}
