"""Terraform type constraints: read a variable's ``type`` and convert values to it.

    ty = parse_type(block.body.attributes["type"].expr)   # from the syntax tree
    value = convert(value, ty)                            # raises ConversionError

Conversion follows terraform (go-cty): ``"5"`` becomes 5 for ``number``, ``true``
becomes ``"true"`` for ``string``, lists become sets, objects drop attributes their
type does not declare, ``optional(T, default)`` fills missing or null attributes
at any depth, and ``any`` inside a collection unifies the elements to one type.
Unknown values stay unknown; the known attributes around them are converted.

Sets are lists here (the evaluator has no set type), ordered as terraform orders
them: strings lexically, numbers numerically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from validator.lazy_dataclass import lazy_dataclass
from validator.model import Unknown
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.values import kind as value_kind

PRIMITIVES = ("string", "number", "bool")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NO_DEFAULT = object()


class TypeSyntaxError(Exception):
    """A ``type`` expression that is not a valid type constraint."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class Undetermined(Exception):
    """A conversion whose result depends on the finer points of terraform's type unification.

    The value stays unknown (with this reason) rather than guessed, and it is no input error.
    """


class ConversionError(Exception):
    """A value that does not convert to the type; the message reads like terraform's."""

    def __init__(self, message: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        where = ": ".join(self.path)
        return f"{where}: {self.args[0]}" if where else str(self.args[0])

    def under(self, step: str) -> ConversionError:
        return ConversionError(self.args[0], (step, *self.path))


# --------------------------------------------------------------------------- #
# Types


@dataclass(frozen=True)
class Type:
    def __str__(self) -> str:  # pragma: no cover - every subclass has its own
        return type(self).__name__


@dataclass(frozen=True)
class Primitive(Type):
    name: str  # string, number, bool

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AnyType(Type):
    def __str__(self) -> str:
        return "any"


@dataclass(frozen=True)
class Collection(Type):
    kind: str  # list, set, map
    element: Type

    def __str__(self) -> str:
        return f"{self.kind}({self.element})"


@lazy_dataclass(frozen=True)
class TupleType(Type):
    elements: tuple[Type, ...]

    def __str__(self) -> str:
        return f"tuple([{', '.join(map(str, self.elements))}])"


@lazy_dataclass(frozen=True)
class Attr:
    type: Type
    optional: bool = False
    default: Any = _NO_DEFAULT
    line: int = field(default=0, compare=False)  # where the optional() default is written

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


@lazy_dataclass(frozen=True)
class ObjectType(Type):
    attrs: tuple[tuple[str, Attr], ...]

    def __str__(self) -> str:
        return "object({" + ", ".join(f"{k} = {a.type}" for k, a in self.attrs) + "})"


ANY = AnyType()
STRING, NUMBER, BOOL = Primitive("string"), Primitive("number"), Primitive("bool")


# --------------------------------------------------------------------------- #
# Parsing the type expression


def parse_type(expr: s.Expr) -> Type:
    """The type a ``type = ...`` expression denotes; TypeSyntaxError if it is none."""
    return _parse(expr)


def _parse(e: s.Expr) -> Type:
    if isinstance(e, s.Name):
        if e.name in PRIMITIVES:
            return Primitive(e.name)
        if e.name == "any":
            return ANY
        if e.name in ("list", "set", "map"):  # the legacy bare forms mean a collection of any
            return Collection(e.name, ANY)
        raise TypeSyntaxError(e.line, f"{e.name!r} is not a type")
    if isinstance(e, s.Call):
        if e.name in ("list", "set", "map"):
            _arity(e, 1)
            return Collection(e.name, _parse(e.args[0]))
        if e.name == "tuple":
            _arity(e, 1)
            items = e.args[0]
            if not isinstance(items, s.TupleExpr):
                raise TypeSyntaxError(e.line, "tuple() takes a list of element types")
            return TupleType(tuple(_parse(i) for i in items.items))
        if e.name == "object":
            _arity(e, 1)
            return _object(e)
        if e.name == "optional":
            raise TypeSyntaxError(e.line, "optional() is allowed only for an object attribute")
        raise TypeSyntaxError(e.line, f"{e.name}() is not a type constructor")
    if isinstance(e, s.Literal) and isinstance(e.value, str):
        raise TypeSyntaxError(e.line, f'quoted type constraints are not allowed; write {e.value} without quotes')
    raise TypeSyntaxError(e.line, "this is not a type constraint")


def _arity(e: s.Call, n: int) -> None:
    if len(e.args) != n:
        raise TypeSyntaxError(e.line, f"{e.name}() takes {n} argument{'s' if n > 1 else ''}")


def _object(e: s.Call) -> ObjectType:
    body = e.args[0]
    if not isinstance(body, s.ObjectExpr):
        raise TypeSyntaxError(e.line, "object() takes an object of attribute types")
    attrs: list[tuple[str, Attr]] = []
    for key, value in body.items:
        if isinstance(key, s.Literal) and isinstance(key.value, str):
            name = key.value
        elif isinstance(key, s.Name):
            name = key.name
        else:
            raise TypeSyntaxError(key.line, "an object type's attribute names are plain names")
        attrs.append((name, _attribute(value)))
    return ObjectType(tuple(attrs))


def _attribute(e: s.Expr) -> Attr:
    if not (isinstance(e, s.Call) and e.name == "optional"):
        return Attr(_parse(e))
    if len(e.args) not in (1, 2):
        raise TypeSyntaxError(e.line, "optional() takes a type and an optional default")
    ty = _parse(e.args[0])
    if len(e.args) == 1:
        return Attr(ty, optional=True)
    default = _constant(e.args[1])
    try:
        default = convert(default, ty)
    except ConversionError as exc:
        raise TypeSyntaxError(e.line, f"the default does not match {ty}: {exc}") from None
    return Attr(ty, optional=True, default=default, line=e.args[1].line)


def _constant(e: s.Expr) -> Any:
    """The value of an optional() default: terraform allows no references there."""
    from validator.sources.terraform.hcl.evaluate import Evaluator  # the evaluator imports nothing of this module

    value = Evaluator(_NoNames()).eval(e)
    if isinstance(value, Unknown):
        raise TypeSyntaxError(e.line, f"the optional() default cannot be evaluated: {value.reason}")
    return value


class _NoNames:
    def lookup(self, name: str, line: int) -> Any:
        from validator.sources.terraform.hcl.evaluate import EvalError

        raise EvalError(f"{name} cannot be used in a type constraint")


# --------------------------------------------------------------------------- #
# Conversion


def convert(value: Any, ty: Type) -> Any:
    """``value`` converted to ``ty``; ConversionError when terraform would refuse it."""
    if value is None or isinstance(value, Unknown):
        return value
    if isinstance(ty, AnyType):
        return value
    if isinstance(ty, Primitive):
        return _primitive(value, ty.name)
    if isinstance(ty, Collection):
        return _collection(value, ty)
    if isinstance(ty, TupleType):
        return _tuple(value, ty)
    if isinstance(ty, ObjectType):
        return _object_value(value, ty)
    raise ConversionError(f"unsupported type {ty}")


# values.kind in the words of type constraints; null and resource objects pass through unconverted.
_TYPE_KINDS = {"list": "tuple", "map": "object", "null": "resource", "other": "resource"}


def _kind(value: Any) -> str:
    found = value_kind(value)
    return _TYPE_KINDS.get(found, found)


def _primitive(value: Any, name: str) -> Any:
    kind = _kind(value)
    if kind == name:
        return value
    if name == "string" and kind in ("number", "bool"):
        return number_to_string(value) if kind == "number" else ("true" if value else "false")
    if name == "number" and kind == "string":
        parsed = string_to_number(value)
        if parsed is not None:
            return parsed
    if name == "bool" and kind == "string" and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    if kind == "resource":
        return value  # a resource object stands for a value known only after apply
    article = "an" if name[0] in "aeiou" else "a"
    return _fail(f"{article} {name} is required")


def _fail(message: str) -> Any:
    raise ConversionError(message)


def number_to_string(value: int | float) -> str:
    """A number as terraform writes it in a string: no exponent, no trailing zeros (values.number_text)."""
    from validator.sources.terraform.hcl.values import EvalError, number_text

    try:
        return number_text(value)
    except EvalError as exc:
        raise ConversionError(str(exc)) from None


def string_to_number(text: str) -> int | float | None:
    """A string as terraform reads it as a number (512-bit precision, see values.parse_number)."""
    if not _NUMBER.fullmatch(text):
        return None
    from validator.sources.terraform.hcl.values import EvalError, parse_number

    try:
        return parse_number(text)
    except EvalError:
        return None


def _collection(value: Any, ty: Collection) -> Any:
    if ty.kind == "map":
        if not isinstance(value, dict):
            return _fail(f"map of {ty.element} required")
        items = list(value.items())
        converted = _elements([v for _, v in items], ty.element, [f'element "{k}"' for k, _ in items], "map")
        return dict(zip([k for k, _ in items], converted, strict=True))
    if not isinstance(value, list):
        return _fail(f"{ty.kind} of {ty.element} required")
    out = _elements(value, ty.element, [f"element {i}" for i in range(len(value))], ty.kind)
    if ty.kind == "set":
        out = _as_set(out)
    return out


def _elements(values: list[Any], element: Type, steps: list[str], kind: str) -> list[Any]:
    if not isinstance(element, AnyType) and _has_any(element):
        out = _converted(values, element, steps)
        if len({type_of(v) for v in out if v is not None and not _contains_unknown(v)}) > 1:
            raise Undetermined(f"the elements of a {kind} of {element} get different types")
        return out
    if isinstance(element, AnyType):
        element = _common_type(values, kind)
        if kind == "set" and _has_any(element):
            raise Undetermined("a set of values whose type is not fully known (nulls) is not modelled")
    return _converted(values, element, steps)


def _converted(values: list[Any], element: Type, steps: list[str]) -> list[Any]:
    out = []
    for v, step in zip(values, steps, strict=True):
        try:
            out.append(convert(v, element))
        except ConversionError as exc:
            raise exc.under(step) from None
    return out


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    return False


def _as_set(values: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for v in values:
        if v not in unique or isinstance(v, Unknown):
            unique.append(v)
    if all(isinstance(v, str) for v in unique):
        return sorted(unique)
    if all(_kind(v) == "number" for v in unique):
        return sorted(unique)
    return unique


def _tuple(value: Any, ty: TupleType) -> Any:
    if not isinstance(value, list):
        return _fail("tuple required")
    if len(value) != len(ty.elements):
        return _fail(f"tuple required with {len(ty.elements)} elements")
    out = []
    for i, (v, t) in enumerate(zip(value, ty.elements, strict=True)):
        try:
            out.append(convert(v, t))
        except ConversionError as exc:
            raise exc.under(f"element {i}") from None
    return out


def _object_value(value: Any, ty: ObjectType) -> Any:
    if not isinstance(value, dict):
        if _kind(value) == "resource":
            return value
        return _fail("object required")
    out: dict[str, Any] = {}
    for name, attr in ty.attrs:
        given = value.get(name, None)
        if name not in value and not attr.optional:
            raise ConversionError(f'attribute "{name}" is required')
        if given is None and attr.has_default:
            out[name] = attr.default
            continue
        try:
            out[name] = convert(given, attr.type)
        except ConversionError as exc:
            raise exc.under(f'attribute "{name}"') from None
    return out


# --------------------------------------------------------------------------- #
# The common type of the elements of a collection of ``any``


def type_of(value: Any) -> Type | None:
    """The type of a known value (None for null, unknown or a resource object)."""
    if value is None or isinstance(value, Unknown):
        return None
    kind = _kind(value)
    if kind in PRIMITIVES:
        return Primitive(kind)
    if kind == "tuple":
        return TupleType(tuple(type_of(v) or ANY for v in value))
    if kind == "object":
        return ObjectType(tuple((k, Attr(type_of(v) or ANY)) for k, v in sorted(value.items())))
    return None


def _has_any(ty: Type) -> bool:
    if isinstance(ty, AnyType):
        return True
    if isinstance(ty, Collection):
        return _has_any(ty.element)
    if isinstance(ty, TupleType):
        return any(_has_any(e) for e in ty.elements)
    if isinstance(ty, ObjectType):
        return any(_has_any(a.type) for _, a in ty.attrs)
    return False


def _common_type(values: list[Any], kind: str) -> Type:
    types = [t for t in (type_of(v) for v in values) if t is not None]
    if not types:
        return ANY
    try:
        return _unify(types)
    except ConversionError:
        raise ConversionError(f"all {kind} elements must have the same type") from None


def _unify(types: list[Type]) -> Type:
    """The one type terraform converts every element to: strings absorb numbers and bools,
    but a number and a bool have none. Structures of different shapes unify in ways
    (tuples to lists, objects to maps) this does not model: Undetermined."""
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(isinstance(t, Primitive) for t in types):
        if STRING in types:
            return STRING
        raise ConversionError("no common type")
    if all(isinstance(t, TupleType) for t in types):
        lengths = {len(t.elements) for t in types if isinstance(t, TupleType)}
        if len(lengths) == 1:
            columns = zip(*(t.elements for t in types if isinstance(t, TupleType)), strict=True)
            return TupleType(tuple(_unify_loose(list(c)) for c in columns))
    if all(isinstance(t, ObjectType) for t in types):
        names = {tuple(k for k, _ in t.attrs) for t in types if isinstance(t, ObjectType)}
        if len(names) == 1:
            (keys,) = names
            columns = zip(*([a.type for _, a in t.attrs] for t in types if isinstance(t, ObjectType)), strict=True)
            return ObjectType(tuple((k, Attr(_unify_loose(list(c)))) for k, c in zip(keys, columns, strict=True)))
    raise Undetermined("elements of different shapes: terraform's unification of them is not modelled")


def _unify_loose(types: list[Type]) -> Type:
    known = [t for t in types if not isinstance(t, AnyType)]
    return _unify(known) if known else ANY
