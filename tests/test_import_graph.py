"""The package's import graph: every module imports on its own, and no two modules need each other.

The graph is read from the source with ``ast``: every ``import`` statement counts, at module level
or inside a function (an import put in a function to break a cycle is still part of the cycle).
Imports under ``if TYPE_CHECKING:`` count only for the type checker and are left out.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "validator"
ROOT = PACKAGE.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below ``node`` that runs (not under ``if TYPE_CHECKING:``)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _imports(child)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_by(module: str) -> set[str]:
    """The modules of the package that ``module`` imports (a ``from pkg import sub`` names ``pkg.sub``)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            target = _absolute(module, node)
            subs = [f"{target}.{alias.name}" for alias in node.names]
            names = [s for s in subs if s in MODULES] or [target]
            if len(names) < len(subs):  # names taken from the package itself, besides submodules
                names.append(target)
        out.update(n for n in names if n in MODULES)
    # Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first: a package's own imports
    # are part of every import of its modules (but the importer's own packages are already running).
    own = {module.rsplit(".", k)[0] for k in range(1, module.count(".") + 1)}
    for name in list(out):
        parts = name.split(".")
        out.update(".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) in MODULES)
    return out - own - {module}


@functools.cache
def graph() -> dict[str, set[str]]:
    return {name: imported_by(name) for name in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def test_graph_reader_sees_function_level_and_relative_imports() -> None:
    edges = graph()
    assert "validator.rules" in edges["validator.engine"]
    assert "validator.rules.base" in edges["validator.rules"]
    # A function-level import is an edge: the CLI imports its commands inside functions.
    assert "validator.commands.static" in edges["validator.cli"]
    # Importing a package's module runs the package first.
    assert "validator.sources.terraform.hcl" in edges["validator.sources.terraform.plan"]
    # ... except the importer's own packages, already running.
    assert "validator.sources.terraform.hcl" not in edges["validator.sources.terraform.hcl.module"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles (function-level imports included): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_findings_import_nothing_of_ours_but_the_rules_base() -> None:
    # ``validator.rules`` is the package the base lives in (its own imports: the base alone);
    # ``validator.profiles`` is a tuple of names.
    assert imported_by("validator.findings") == {"validator.profiles", "validator.rules", "validator.rules.base"}
    assert imported_by("validator.profiles") == set()
    assert imported_by("validator.rules") == {"validator.rules.base"}


def test_engine_never_sees_the_command_line() -> None:
    source = MODULES["validator.engine"].read_text(encoding="utf-8")
    assert "argparse" not in source
    assert "getattr(" not in source


# Run in a fresh interpreter: it imports the third-party libraries the package uses (so that each
# module's own import is what is measured), then forks one child per module; a child imports its one
# module, with nothing of the package loaded before, and exits.
_IMPORT_EACH = """
import importlib, os, sys, traceback
for lib in ("hcl2", "lark", "boto3", "botocore.session", "psycopg", "shtab", "tomllib", "argparse"):
    try:
        importlib.import_module(lib)
    except ImportError:
        pass
assert not [m for m in sys.modules if m == "validator" or m.startswith("validator.")]
for name in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
        except BaseException as exc:
            os.write(write, (traceback.format_exception_only(exc)[-1].strip()).encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        message = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    if status:
        print(f"{name}: {message or status}")
"""


def test_every_module_imports_on_its_own() -> None:
    """``import validator.x`` works for every module with nothing of the package imported before."""
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *sorted(MODULES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "", "modules that do not import on their own:\n" + proc.stdout


def test_the_import_check_sees_a_module_that_fails() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, "validator.findings", "validator.no_such_module"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.stdout.splitlines() == [
        "validator.no_such_module: ModuleNotFoundError: No module named 'validator.no_such_module'"
    ]
