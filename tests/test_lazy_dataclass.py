"""``@lazy_dataclass`` makes the class ``@dataclass`` makes, on its first use; a warm static scan uses few."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import os
import pickle
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from validator import lazy_dataclass as lazy_module
from validator.lazy_dataclass import is_pending, lazy_dataclass

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _lazy_classes_made_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """Classes these tests define are lazy, even in a process that imported the AWS sources before.

    Importing them (another test file, in the same worker) makes every later class eager.
    """
    monkeypatch.setattr(lazy_module, "_eager", False)


def _pair(params: dict[str, Any], make: Any) -> tuple[type, type]:
    """The same class body made by ``dataclass`` and by ``lazy_dataclass`` with ``params``."""
    eager = dataclass(**params)(make())
    lazy = lazy_dataclass(**params)(make())
    assert is_pending(lazy)
    return eager, lazy


def _record() -> type:
    class Record:
        """A record."""

        name: str
        size: int = 0
        tags: list[str] = field(default_factory=list)
        note: str = field(default="", compare=False, repr=False)

        def label(self) -> str:
            return f"{self.name}:{self.size}"

    return Record


def _bare() -> type:
    class Bare:
        a: int
        b: tuple[int, ...] = ()

    return Bare


def _own_methods() -> type:
    class Own:
        """Defines its own repr and equality."""

        key: str

        def __repr__(self) -> str:
            return f"<{self.key}>"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, type(self)) and other.key.lower() == self.key.lower()

    return Own


SHAPES = [
    ({}, _record),
    ({"frozen": True}, _record),
    ({"frozen": True, "order": True}, _bare),
    ({"eq": False}, _record),
    ({"repr": False}, _bare),
    ({"frozen": True, "unsafe_hash": False}, _own_methods),
    ({"unsafe_hash": True}, _bare),
    ({"kw_only": True}, _bare),
]


def _args(cls: type, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    values = {"name": "n", "size": 3, "tags": ["x"], "note": "hi", "a": 1, "b": (2,), "key": "K"}
    if params.get("kw_only"):
        return (), {n: values[n] for n in names}
    return tuple(values[n] for n in names[:1]), {n: values[n] for n in names[1:]}


def _shown(cls: type, obj: Any) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", repr(obj)).replace(cls.__qualname__, "C")


def _observe(cls: type, obj: Any, other: Any) -> dict[str, Any]:
    """What a user of the class can see of it and of two equal-valued instances."""
    seen: dict[str, Any] = {
        "repr": _shown(cls, obj),
        "eq": obj == other,
        "ne": obj != other,
        "is_dataclass": dataclasses.is_dataclass(obj),
        "fields": [(f.name, f.default, f.compare, f.repr, f.init) for f in dataclasses.fields(cls)],
        "match_args": getattr(cls, "__match_args__", None),
        "signature": str(inspect.signature(cls)),
        "doc": (cls.__doc__ or "").replace(cls.__name__, "C"),
        "asdict": dataclasses.asdict(obj),
        "replaced": _shown(cls, dataclasses.replace(obj)),
        "copy_eq": copy.deepcopy(obj) == obj,
        "class_attrs": sorted(k for k in vars(cls) if not k.startswith("__") or k in ("__hash__", "__eq__")),
    }
    try:
        seen["hash"] = hash(obj) == hash(other)
    except TypeError as exc:
        seen["hash"] = str(exc).replace(cls.__name__, "C")
    try:
        obj.size = 5
        seen["set"] = "set"
    except dataclasses.FrozenInstanceError:
        seen["set"] = "frozen"
    try:
        seen["lt"] = obj < other
    except TypeError:
        seen["lt"] = "no order"
    return seen


@pytest.mark.parametrize(("params", "make"), SHAPES)
def test_a_lazy_class_behaves_as_the_dataclass_once_used(params: dict[str, Any], make: Any) -> None:
    eager, lazy = _pair(params, make)
    args, kwargs = _args(eager, params)
    first = lazy(*args, **kwargs)  # the first use completes the class
    assert not is_pending(lazy)
    expected = _observe(eager, eager(*args, **kwargs), eager(*args, **kwargs))
    assert _observe(lazy, first, lazy(*args, **kwargs)) == expected
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        assert (name in vars(lazy)) == (name in vars(eager)), name
        if name in vars(eager) and vars(eager)[name] is not None and name not in ("__repr__", "__eq__"):
            assert vars(lazy)[name].__qualname__.endswith(f"{lazy.__qualname__}.{name}"), name


@pytest.mark.parametrize(
    "first_use",
    [
        lambda c: dataclasses.fields(c),
        lambda c: dataclasses.is_dataclass(c),
        lambda c: inspect.signature(c),
        lambda c: c.__match_args__,
        lambda c: hasattr(c, "__dataclass_fields__"),
    ],
)
def test_asking_for_the_dataclass_completes_the_class(first_use: Any) -> None:
    eager, lazy = _pair({"frozen": True}, _record)
    first_use(lazy)
    assert not is_pending(lazy)
    assert [f.name for f in dataclasses.fields(lazy)] == [f.name for f in dataclasses.fields(eager)]
    assert str(inspect.signature(lazy)) == str(inspect.signature(eager))


def test_an_instance_unpickled_before_first_use_is_whole() -> None:
    """Syntax trees come back from the parse cache: their classes are never called, only unpickled."""
    _eager, lazy = _pair({"frozen": True}, _bare)
    globals()["_Pickled"] = lazy
    lazy.__qualname__ = "_Pickled"
    try:
        obj = lazy.__new__(lazy)
        obj.__dict__.update({"a": 1, "b": (2,)})
        data = pickle.dumps(obj)
        back = pickle.loads(data)
        assert is_pending(lazy)  # neither pickling nor unpickling uses the class's methods
        assert back.a == 1 and back.b == (2,)
        with pytest.raises(dataclasses.FrozenInstanceError):
            back.a = 2  # the first use: the class is completed, then frozen as ever
        assert not is_pending(lazy)
        assert back == lazy(1, (2,)) and hash(back) == hash(lazy(1, (2,)))
        assert pickle.dumps(back) == data
    finally:
        del globals()["_Pickled"]


def test_subclasses_complete_their_bases_first() -> None:
    @lazy_dataclass(frozen=True)
    class Base(Generic[T]):
        line: int

    @lazy_dataclass(frozen=True)
    class Child(Base[int]):
        value: Any

    class Plain(Child):
        """Not a dataclass itself: it inherits Child's."""

    assert is_pending(Base) and is_pending(Child)
    obj = Plain(3, "v")
    assert not is_pending(Base) and not is_pending(Child)
    assert repr(obj) == "test_subclasses_complete_their_bases_first.<locals>.Plain(line=3, value='v')"
    assert [f.name for f in dataclasses.fields(Child)] == ["line", "value"]
    assert Base(1) != Child(1, None) and Child(1, None) == Child(1, None)

    @lazy_dataclass(frozen=True)
    class Later(Base[str]):  # a dataclass made from a base already complete
        name: str = ""

    assert Later(2).name == "" and not is_pending(Base)

    @lazy_dataclass
    class Lazy:
        x: int

    @dataclass
    class Eager(Lazy):  # an eager subclass completes its lazy base on the spot
        y: int = 0

    assert not is_pending(Lazy) and Eager(1).x == 1


def test_super_init_of_a_subclass_reaches_the_generated_init() -> None:
    @lazy_dataclass
    class Base:
        x: int

    class Sub(Base):
        def __init__(self, x: int) -> None:
            super().__init__(x * 2)

    assert Sub(2).x == 4


def test_exceptions_are_made_at_once() -> None:
    """Unpickling an exception calls its ``__init__`` (in the thread that unpickles it)."""

    @lazy_dataclass
    class Problem(Exception):
        message: str

    assert not is_pending(Problem) and Problem("x").message == "x"


def test_after_materialize_all_every_class_is_made_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy_module, "_eager", False)
    monkeypatch.setattr(lazy_module, "_PENDING", {})
    _eager, waiting = _pair({}, _bare)
    lazy_module.materialize_all()
    assert not is_pending(waiting) and waiting(1).a == 1
    later = lazy_dataclass(_bare())
    assert not is_pending(later) and dataclasses.is_dataclass(later)


PROBE = """
import contextlib, io, json, sys
from validator import cli, lazy_dataclass
from validator.sources.terraform.hcl import syntax
with contextlib.redirect_stdout(io.StringIO()):
    code = cli.main(["reference/terraform", "--format", "json"])
pending = sorted(c.__name__ for c in lazy_dataclass._PENDING)
nodes = sorted(n for n, c in vars(syntax).items() if isinstance(c, type) and lazy_dataclass.is_pending(c))
print(json.dumps({"code": code, "pending": pending, "nodes": nodes, "hashlib": "hashlib" in sys.modules,
                  "iam": "validator.iam" in sys.modules}))
"""


def _probe(tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "AURORA_VALIDATE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_warm_static_scan_makes_no_syntax_node_class_and_loads_no_openssl(tmp_path: Path) -> None:
    """Warm, the syntax tree is unpickled: none of its node classes is ever made into a dataclass."""
    cold = _probe(tmp_path)
    warm = _probe(tmp_path)
    assert "Literal" not in cold["nodes"]  # a cold scan builds trees: the classes are made
    assert warm["code"] == cold["code"]
    assert {"Expr", "Literal", "Call", "Template", "Block", "Body", "Attribute"} <= set(warm["nodes"])
    assert {"Database", "RefusedCall", "KnowledgeBase", "PolicyStatement"} <= set(warm["pending"])
    assert not warm["hashlib"] and not warm["iam"]


MATERIALIZE = """
import dataclasses, importlib, json, sys
from validator import lazy_dataclass
for name in sys.argv[1:]:
    importlib.import_module(name)
pending = list(lazy_dataclass._PENDING)
lazy_dataclass.materialize_all()
print(json.dumps({"pending": len(pending), "made": all(dataclasses.is_dataclass(c) for c in pending)}))
"""


def test_every_lazy_class_of_the_package_is_a_valid_dataclass() -> None:
    """A mistake ``dataclass`` reports (a field without a default after one with) shows in a test, not in a run."""
    package = REPO / "validator"
    modules, declared = [], 0
    for path in sorted(package.rglob("*.py")):
        count = sum(line.startswith("@lazy_dataclass") for line in path.read_text().splitlines())
        if count:
            parts = path.relative_to(REPO).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
            declared += count
    done = subprocess.run([sys.executable, "-c", MATERIALIZE, *modules], cwd=REPO, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"pending": declared, "made": True} and declared >= 30


def test_the_aws_sources_complete_every_lazy_class_before_their_threads_start() -> None:
    probe = (
        "import json\n"
        "from validator import model, lazy_dataclass\n"
        "before = lazy_dataclass.is_pending(model.KnowledgeBase)\n"
        "import validator.sources.aws\n"
        "from validator import iam\n"
        "after = [lazy_dataclass.is_pending(model.KnowledgeBase), lazy_dataclass.is_pending(iam.Verdict)]\n"
        "print(json.dumps([before, *after]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True, False, False]
