"""Where an evaluated value was written, through every expression that carries it.

The evaluator computes values; :class:`Tracer` follows the same syntax tree and
says, for the value an expression yields, which line holds it and whether it was
written as a literal. A value that an expression *selects* (a conditional's
branch, ``coalesce``, ``try``, ``lookup``, ``one``, ``element``, an index, an
attribute, ``merge``, a ``for`` expression, a splat) keeps the provenance of what
was selected; a value an expression *computes* (a template, an operator, most
functions) is a literal when every input was one, and points at its only outside
source when it has one, or else at the expression. ``jsonencode`` remembers the
provenance of what it encoded, so ``jsondecode`` of it gives back each part's.

Provenance is a tree (:class:`Prov`) shaped like the value: a list or an object
holds one per element, so selecting an element keeps the line of that element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any, Protocol

from validator.model import Location, Unknown
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.evaluate import EvalError, Evaluator, to_bool, to_str

# Functions whose result is one of their arguments (or an element of one).
SELECTING = frozenset({"coalesce", "coalescelist", "lookup", "one", "element", "try", "merge", "concat",
                       "flatten", "values", "compact", "slice", "reverse", "tolist", "toset", "tomap", "distinct",
                       "setunion", "matchkeys", "zipmap", "transpose", "nonsensitive", "sensitive", "sort"})
MAX_DEPTH = 64
_UNSET: Any = object()  # no value given


@dataclass(frozen=True)
class Prov:
    """Provenance of a value, with one entry per element for lists and objects."""

    origin: Location
    literal: bool = False
    parts: dict[str, Prov] | tuple[Prov, ...] | None = None
    encoded: Prov | None = None  # for the string jsonencode() made: the provenance of what it encoded

    def part(self, key: Any) -> Prov:
        """The provenance of element ``key``; a value written in one place gives its own."""
        found: Prov | None = None
        if isinstance(self.parts, dict) and isinstance(key, str | int) and not isinstance(key, bool):
            found = self.parts.get(str(key))
        elif isinstance(self.parts, tuple) and isinstance(key, int) and not isinstance(key, bool):
            found = self.parts[key] if -len(self.parts) <= key < len(self.parts) else None
        if found is None:
            return Prov(self.origin, self.literal)
        if found.origin.via is None and self.origin.via is not None:
            return Prov(_with_via(found.origin, self.origin.via), found.literal, found.parts, found.encoded)
        return found

    def flat(self) -> Prov:
        """The same provenance without per-element entries (after a reordering conversion)."""
        return Prov(self.origin, self.literal)

    def via(self, note: str) -> Prov:
        return Prov(_with_via(self.origin, note), self.literal, self.parts, self.encoded)


# Location's fields, in order, when they are the ones _with_via copies (else it uses dataclasses.replace).
_LOCATION_FAST = tuple(f.name for f in fields(Location)) == ("file", "line", "api_call", "arn", "via")


def _with_via(origin: Location, via: str | None) -> Location:
    """``dataclasses.replace(origin, via=via)``, without its generic work."""
    if not _LOCATION_FAST:  # pragma: no cover - Location gained or lost a field
        return replace(origin, via=via)
    return Location(origin.file, origin.line, origin.api_call, origin.arn, via)


@lru_cache(maxsize=8192)
def location(file: str, line: int) -> Location:
    """One Location per file and line (it is immutable): a tracer asks for the same lines again and again."""
    return Location(file, line)


class TracingScope(Protocol):
    """A scope that can also say where the value of a name was written."""

    def trace_name(self, name: str, line: int) -> tuple[Any, Prov] | None: ...


class Tracer:
    """Provenance of the expressions of one file, evaluated by ``ev``."""

    def __init__(self, ev: Evaluator, file: str) -> None:
        self.ev = ev
        self.file = file
        self.depth = 0
        self._trace_name = getattr(ev.scope, "trace_name", None)

    def at(self, line: int) -> Location:
        return location(self.file, line)

    def prov(self, e: s.Expr) -> Prov:
        if self.depth > MAX_DEPTH:
            return Prov(self.at(e.line))
        self.depth += 1
        try:
            return self._prov(e)
        except (EvalError, RecursionError):
            return Prov(self.at(e.line))
        finally:
            self.depth -= 1

    def _value(self, e: s.Expr) -> Any:
        return self.ev.eval(e)

    def _known(self, e: s.Expr) -> Any:
        """The value of ``e`` as this trace's evaluation found it (evaluated now when it did not reach ``e``).

        Only for what is read by value (a condition, a key, whether a value is unknown): what a
        function returns is matched against its arguments by identity, so those are evaluated again.
        """
        memo = self.ev.memo
        if memo is not None:
            found = memo.get(id(e), _UNSET)
            if found is not _UNSET:
                return found
        return self.ev.eval(e)

    def _prov(self, e: s.Expr) -> Prov:
        method = _PROV_BY_TYPE.get(type(e))
        if method is None:  # a subclass of a node type, or a node without provenance of its own
            method = next((m for t, m in _PROV_BY_TYPE.items() if isinstance(e, t)), None)
            if method is None:
                return Prov(self.at(e.line))
        return method(self, e)

    def _literal(self, e: s.Literal) -> Prov:
        return Prov(self.at(e.line), True)

    def _template(self, e: s.Template) -> Prov:
        exprs = [p for p in e.parts if isinstance(p, s.Expr)]
        if len(e.parts) == 1 and exprs:
            return self.prov(exprs[0])
        text = [Prov(self.at(e.line), True)] if len(exprs) < len(e.parts) else []
        return self._derived(e, [*text, *(self.prov(p) for p in exprs)], literal_parts=True)

    def _name(self, e: s.Name) -> Prov:
        if e.name in self.ev.bindings:
            return self.ev.provs.get(e.name) or Prov(self.at(e.line))
        return self._named(e.name, e)

    def _index(self, e: s.Index) -> Prov:
        key = self._known(e.key)
        base = self.prov(e.obj)
        return base.part(key if isinstance(key, int) else _key(key))

    def _tuple(self, e: s.TupleExpr) -> Prov:
        parts = tuple(self.prov(i) for i in e.items)
        return Prov(self.at(e.line), all(p.literal for p in parts), parts)

    def _conditional(self, e: s.Conditional) -> Prov:
        cond = self._known(e.cond)
        if isinstance(cond, Unknown):
            return self._derived(e, [self.prov(e.then), self.prov(e.other)])
        return self.prov(e.then if to_bool(cond) else e.other)

    def _unary(self, e: s.Unary) -> Prov:
        return self._derived(e, [self.prov(e.operand)])

    def _binary(self, e: s.Binary) -> Prov:
        return self._derived(e, [self.prov(e.left), self.prov(e.right)])

    # ----------------------------------------------------------------- names
    def _named(self, name: str, e: s.Expr) -> Prov:
        trace_name = self._trace_name
        found = trace_name(name, e.line) if trace_name is not None else None
        return found[1] if found is not None else Prov(self.at(e.line))

    def _get_attr(self, e: s.GetAttr) -> Prov:
        if isinstance(e.obj, s.Name) and e.obj.name not in self.ev.bindings:
            return self._named(f"{e.obj.name}.{e.name}", e)
        if (
            isinstance(e.obj, s.GetAttr)
            and isinstance(e.obj.obj, s.Name)
            and e.obj.obj.name in ("module", "data")
            and e.obj.obj.name not in self.ev.bindings
        ):
            return self._named(f"{e.obj.obj.name}.{e.obj.name}.{e.name}", e)
        return self.prov(e.obj).part(e.name)

    # ------------------------------------------------------------ structures
    def _object(self, e: s.ObjectExpr) -> Prov:
        parts: dict[str, Prov] = {}
        literal = True
        for k, v in e.items:
            key = self._known(k)
            if isinstance(key, Unknown):
                return Prov(self.at(e.line))
            p = self.prov(v)
            literal = literal and p.literal and not s.references(k)
            parts[to_str(key)] = p
        return Prov(self.at(e.line), literal, parts)

    def _splat(self, e: s.Splat) -> Prov:
        base_value = self._known(e.obj)
        base = self.prov(e.obj)
        if not isinstance(base_value, list):
            base, count = Prov(base.origin, base.literal, (base,)), 1
        else:
            count = len(base_value)
        parts = []
        for i in range(count):
            p = base.part(i)
            for kind, step in e.steps:
                p = p.part(step if kind == "attr" else _key(self._known(step)))
            parts.append(p)
        return Prov(self.at(e.line), all(p.literal for p in parts), tuple(parts))

    def _for(self, e: s.ForExpr) -> Prov:
        coll = self._known(e.collection)
        base = self.prov(e.collection)
        if isinstance(coll, dict):
            pairs: list[tuple[Any, Any]] = list(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            return Prov(self.at(e.line))
        items: list[Prov] = []
        grouped: dict[str, list[Prov]] = {}
        keyed: dict[str, Prov] = {}
        for k, v in pairs:
            binds = {e.value_var: v}
            provs = {e.value_var: base.part(k)}
            if e.key_var:
                binds[e.key_var] = k
                provs[e.key_var] = Prov(base.origin, base.literal)
            tracer = Tracer(self.ev.child(**binds).traced(provs), self.file)
            tracer.depth = self.depth
            if e.cond is not None:
                c = tracer._value(e.cond)
                if isinstance(c, Unknown):
                    return Prov(self.at(e.line))
                if not to_bool(c):
                    continue
            p = tracer.prov(e.value)
            if e.key is None:
                items.append(p)
                continue
            key = tracer._value(e.key)
            if isinstance(key, Unknown):
                return Prov(self.at(e.line))
            if e.grouping:
                grouped.setdefault(to_str(key), []).append(p)
            else:
                keyed[to_str(key)] = p
        if e.key is None:
            return Prov(self.at(e.line), base.literal and all(p.literal for p in items), tuple(items))
        if e.grouping:
            keyed = {k: Prov(self.at(e.line), all(p.literal for p in ps), tuple(ps)) for k, ps in grouped.items()}
        return Prov(self.at(e.line), base.literal and all(p.literal for p in keyed.values()), keyed)

    # -------------------------------------------------------------- functions
    def _call(self, e: s.Call) -> Prov:
        if e.name == "try":
            for arg in e.args:
                value = self._known(arg)
                if isinstance(value, Unknown) and value.reason.startswith("line "):
                    continue
                return self.prov(arg)
            return Prov(self.at(e.line))
        if e.name in _COMPUTING and e.name != "jsonencode":
            return self._derived(e, [self.prov(a) for a in e.args])
        if e.name in ("jsonencode", "jsondecode") and len(e.args) == 1:
            return self._coded(e)
        args = [(self._value(a), self.prov(a)) for a in e.args]
        result = self._value(e)
        if isinstance(result, Unknown):
            return self._derived(e, [p for _, p in args], value=result)
        if e.name == "merge" and isinstance(result, dict):
            return self._merged(e, result, args)
        if e.name in SELECTING or e.name not in _COMPUTING:
            pool = list(_pool(args))
            chosen = _select(result, pool, by_equality=e.name in SELECTING)
            if chosen is not None:
                return chosen
            if e.name in SELECTING and isinstance(result, list | dict):
                return self._rebuilt(e, result, pool, [p for _, p in args])
        return self._derived(e, [p for _, p in args], value=result)

    def _coded(self, e: s.Call) -> Prov:
        """jsonencode(x) or jsondecode(x): read by value only (the encoded value keeps x's provenance)."""
        inner = self.prov(e.args[0])
        if e.name == "jsondecode":
            return inner.encoded if inner.encoded is not None else inner.flat()
        result = self._known(e)
        derived = self._derived(e, [inner], value=result)
        if isinstance(result, Unknown):
            return derived
        return Prov(derived.origin, derived.literal, derived.parts, encoded=inner)

    def _merged(self, e: s.Call, result: dict[str, Any], args: list[tuple[Any, Prov]]) -> Prov:
        parts: dict[str, Prov] = {}
        for key in result:
            for value, prov in reversed(args):
                if isinstance(value, dict) and key in value:
                    parts[key] = prov.part(key)
                    break
        literal = all(p.literal for p in parts.values()) and all(p.literal for _, p in args)
        return Prov(self.at(e.line), literal, parts)

    def _rebuilt(self, e: s.Call, result: list[Any] | dict[str, Any], pool: list[tuple[Any, Prov]],
                 inputs: list[Prov]) -> Prov:
        """A new list or map made of elements of the arguments: each element keeps its provenance."""
        fallback = self._derived(e, inputs, value=result).flat()
        if isinstance(result, dict):
            parts_d = {k: _select(v, pool, by_equality=True) or fallback for k, v in result.items()}
            return Prov(fallback.origin, fallback.literal, parts_d)
        parts_t = tuple(_select(v, pool, by_equality=True) or fallback for v in result)
        return Prov(fallback.origin, fallback.literal, parts_t)

    def _derived(self, e: s.Expr, inputs: list[Prov], literal_parts: bool = False, value: Any = _UNSET) -> Prov:
        """A value computed from ``inputs``: a literal when they all are (and there is one at least).

        ``value``: the value of ``e``, when the caller has just evaluated it.
        """
        literal = all(p.literal for p in inputs) and (bool(inputs) or literal_parts or not isinstance(e, s.Call))
        # Made of literals, it is a literal unless it cannot be known: a function may be unknown
        # (operators and templates of known values fail only where the whole value is unknown).
        if literal and isinstance(e, s.Call | s.Conditional):
            literal = not isinstance(self._known(e) if value is _UNSET else value, Unknown)
        here = self.at(e.line)
        # A value made only of what one other line wrote points at that line.
        origins = {(p.origin.file, p.origin.line): p for p in inputs}
        if literal and len(origins) == 1 and (here.file, here.line) not in origins:
            (only,) = origins.values()
            return Prov(only.origin, True)
        return Prov(here, literal)


# The method tracing each kind of node.
_PROV_BY_TYPE: dict[type, Callable[[Tracer, Any], Prov]] = {
    s.Literal: Tracer._literal,
    s.Template: Tracer._template,
    s.Name: Tracer._name,
    s.GetAttr: Tracer._get_attr,
    s.Index: Tracer._index,
    s.Splat: Tracer._splat,
    s.TupleExpr: Tracer._tuple,
    s.ObjectExpr: Tracer._object,
    s.Conditional: Tracer._conditional,
    s.Unary: Tracer._unary,
    s.Binary: Tracer._binary,
    s.Call: Tracer._call,
    s.ForExpr: Tracer._for,
}

# Functions that compute a new value (never one of their arguments).
_COMPUTING = frozenset({"format", "formatlist", "lower", "upper", "title", "trimspace", "trim", "trimprefix",
                        "trimsuffix", "replace", "substr", "join", "split", "length", "keys", "contains",
                        "range", "min", "max", "abs", "ceil", "floor", "jsonencode", "cidrsubnet", "base64encode",
                        "base64decode", "md5", "sha1", "sha256", "sha512", "tonumber", "tostring", "tobool"})


def _key(value: Any) -> Any:
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    try:
        return to_str(value)
    except EvalError:
        return None


def _pool(args: list[tuple[Any, Prov]], depth: int = 3) -> list[tuple[Any, Prov]]:
    """Every argument and every element of one (to ``depth`` levels), with its provenance."""
    out: list[tuple[Any, Prov]] = []

    def walk(value: Any, prov: Prov, level: int) -> None:
        out.append((value, prov))
        if level >= depth:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, prov.part(k), level + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, prov.part(i), level + 1)

    for value, prov in args:
        walk(value, prov, 0)
    return out


def _select(result: Any, pool: list[tuple[Any, Prov]], by_equality: bool) -> Prov | None:
    """The provenance of the argument (or element) the result is."""
    if isinstance(result, str | list | dict):
        for value, prov in pool:
            if value is result:
                return prov
    if by_equality and result is not None:
        for value, prov in pool:
            if type(value) is type(result) and value == result:
                return prov
    return None
