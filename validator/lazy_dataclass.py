"""``@lazy_dataclass``: ``@dataclass``, with the methods generated when the class is first used.

Python's ``dataclass`` compiles each generated method (``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, and for a frozen class ``__setattr__``/``__delattr__``) with ``exec``: about half
a millisecond a class, paid at import. Many classes are never used by a given run: a static
scan never builds a database or a refused AWS call, and a warm parse cache gives back syntax
trees whose nodes are unpickled, never constructed. For such classes the decorator records the
dataclass parameters and puts small forwarding methods in their place; the first use (an
instance built, compared, hashed or shown, ``dataclasses.fields``/``replace``/``is_dataclass``,
``inspect.signature``, ``__match_args__``) applies the real ``dataclass`` to the class, in place,
with the same parameters, and retries. From then on the class is exactly the class ``@dataclass``
would have made: the forwarding methods are gone, so no instance pays for the laziness.

An instance unpickled before the class's first use is already whole: pickle fills its
``__dict__`` without calling a method of the class.

The switch from forwarding methods to generated ones is not atomic, so a class must not have
its first use in two threads at once. Code that builds instances in threads calls
:func:`materialize_all` first (the AWS sources do, on import): every lazy class is completed and
later ones are made eagerly. Do not use this for exceptions (unpickling one calls its
``__init__``, in whatever thread unpickles it) or for classes with ``slots=True`` (those are
made at once).

For type checkers ``lazy_dataclass`` is ``dataclasses.dataclass`` itself.
"""

from __future__ import annotations

import dataclasses
from _thread import RLock
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["is_pending", "lazy_dataclass", "materialize_all"]

_MISSING = object()
# Class -> (dataclass parameters, what its own namespace held under each name stubbed).
_PENDING: dict[type, tuple[dict[str, Any], dict[str, Any]]] = {}
_LOCK = RLock()
_eager = False

_ORDER = ("__lt__", "__le__", "__gt__", "__ge__")


def _materialize(cls: type) -> None:
    """Apply ``dataclass`` to every lazy class of ``cls``'s MRO not yet done, bases first."""
    with _LOCK:
        for klass in reversed(cls.__mro__):
            pending = _PENDING.pop(klass, None)
            if pending is None:
                continue
            params, saved = pending
            for name, original in saved.items():
                if original is _MISSING:
                    delattr(klass, name)
                else:
                    setattr(klass, name, original)
            dataclasses.dataclass(klass, **params)


def materialize_all() -> None:
    """Complete every lazy class now, and make every later one at once (before threads use them)."""
    global _eager
    with _LOCK:
        _eager = True
        while _PENDING:
            _materialize(next(iter(_PENDING)))


def is_pending(cls: type) -> bool:
    """Whether ``cls`` (a lazy dataclass) is still waiting for its first use."""
    return cls in _PENDING


class _Deferred:
    """A class attribute that completes the class when read, then reads the real one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type) -> Any:
        _materialize(owner)
        return getattr(owner if instance is None else instance, self.name)


def _forwarders(owner: type, params: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The methods and attributes standing in for what ``dataclass`` will generate on ``owner``."""
    out: dict[str, Any] = {}
    real: Any = owner  # its methods, once generated

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        _materialize(owner)
        real.__init__(self, *args, **kwargs)

    def repr_(self: Any) -> str:
        _materialize(owner)
        return str(real.__repr__(self))

    def eq(self: Any, other: object) -> Any:
        _materialize(owner)
        return real.__eq__(self, other)

    def hash_(self: Any) -> int:
        _materialize(owner)
        if real.__hash__ is None:
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        return int(real.__hash__(self))

    def setattr_(self: Any, name: str, value: Any) -> None:
        _materialize(owner)
        real.__setattr__(self, name, value)

    def delattr_(self: Any, name: str) -> None:
        _materialize(owner)
        real.__delattr__(self, name)

    def order(name: str) -> Callable[[Any, object], Any]:
        def compare(self: Any, other: object) -> Any:
            _materialize(owner)
            return getattr(real, name)(self, other)

        return compare

    eq_ = params.get("eq", True)
    frozen = params.get("frozen", False)
    if params.get("init", True):
        out["__init__"] = init
    if params.get("repr", True):
        out["__repr__"] = repr_
    if eq_:
        out["__eq__"] = eq
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if (eq_ or params.get("unsafe_hash", False)) and not explicit_hash:
        out["__hash__"] = hash_
    if params.get("order", False):
        for name in _ORDER:
            out[name] = order(name)
    if frozen:
        out["__setattr__"] = setattr_
        out["__delattr__"] = delattr_
    for name in ("__dataclass_fields__", "__match_args__", "__signature__"):
        out[name] = _Deferred(name)
    # What the class defines itself stays its own (``dataclass`` keeps it too), except an
    # implicit ``__hash__ = None`` that ``dataclass`` replaces.
    return {k: v for k, v in out.items() if k not in own or k == "__hash__"}


def _lazy(cls: type, params: dict[str, Any]) -> type:
    if _eager or params.get("slots", False) or issubclass(cls, BaseException):
        return dataclasses.dataclass(cls, **params)
    own = dict(cls.__dict__)
    saved: dict[str, Any] = {}
    for name, value in _forwarders(cls, params, own).items():
        saved[name] = own.get(name, _MISSING)
        setattr(cls, name, value)
    _PENDING[cls] = (params, saved)
    return cls


if TYPE_CHECKING:
    from dataclasses import dataclass as lazy_dataclass
else:

    def lazy_dataclass(cls=None, /, **params):
        """``@lazy_dataclass`` or ``@lazy_dataclass(frozen=True, ...)``: ``dataclass``'s parameters."""
        if cls is None:
            return lambda c: _lazy(c, params)
        return _lazy(cls, params)
