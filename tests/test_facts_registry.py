"""Facts check themselves: each is a typed record with a source and a confidence, each is read,
and none of the distinctive ones is copied as a literal elsewhere in ``validator/``."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from validator import facts
from validator.facts import FACTS, Confidence

ROOT = Path(__file__).resolve().parent.parent
FACTS_FILE = Path(facts.__file__).resolve()
FACTS_LINES = FACTS_FILE.read_text(encoding="utf-8").splitlines()
# Where a fact may be read: the package and everything that tests or measures it.
READERS = ("validator", "tests", "features", "bench")

# Public constants of facts.py that are not facts: the row keys of PROVIDER_ARGUMENTS (a
# vocabulary of Deployment.arguments_used) and the date the price rows were quoted, which
# every AcuPrice carries.
NOT_FACTS = {"FACTS", "T", "PSEUDO_MIN_CAPACITY_ZERO", "PSEUDO_MAX_CAPACITY_ABOVE_128", "PRICES_QUOTED"}

# Literals equal to a distinctive fact's value that mean something else where they are written.
COINCIDENCES: dict[tuple[str, object], str] = {
    ("validator/limits.py", 128): "the JSON nesting depth limit",
    ("validator/sources/terraform/hcl/functions.py", 128): "the bits of an IPv6 address (cidrsubnet)",
    ("validator/sources/terraform/hcl/cache.py", 256): "the number of parse results kept in memory",
    ("validator/reporters/asff.py", 256): "the length limit of an ASFF finding's Title",
}


def _assignments() -> dict[str, int]:
    """The module-level names facts.py assigns (imports excluded), with their line."""
    lines: dict[str, int] = {}
    for node in ast.parse("\n".join(FACTS_LINES)).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        lines.update((t.id, node.lineno) for t in targets if isinstance(t, ast.Name))
    return lines


LINES = _assignments()


CONSTANTS: dict[str, Any] = {name: getattr(facts, name) for name in LINES if name.isupper()}


def _records(value: Any) -> list[Any]:
    """The dataclass records of a table (a dict or tuple of records); [] for anything else."""
    items = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, tuple) else []
    if items and all(dataclasses.is_dataclass(item) for item in items):
        return items
    return []


def test_every_constant_is_a_recorded_fact_a_table_of_records_or_a_source() -> None:
    for name, value in CONSTANTS.items():
        if name in NOT_FACTS:
            continue
        if name.startswith("URL_"):
            assert value.startswith("https://"), name
            continue
        if name in FACTS:
            assert FACTS[name].value is value, f"{name} is not the value recorded under its name"
            continue
        rows = _records(value)
        assert rows, f"facts.{name} is neither recorded with fact() nor a table of records"
        for row in rows:
            assert isinstance(row.confidence, Confidence), (name, row)
            assert row.source.startswith("https://"), (name, row)


def test_every_recorded_fact_names_its_source_and_confidence() -> None:
    assert len(FACTS) >= 30
    for name, recorded in FACTS.items():
        assert recorded.name == name
        assert isinstance(recorded.confidence, Confidence), name
        assert recorded.source.startswith("https://"), name
        assert name in CONSTANTS, f"{name} is recorded but not a constant of facts.py"


def _comment_above(line: int) -> str:
    """The comment on line ``line`` (1-based) and the comment block right above it."""
    text = [FACTS_LINES[line - 1].partition("#")[2]]
    j = line - 2
    while j >= 0 and FACTS_LINES[j].strip().startswith("#"):
        text.append(FACTS_LINES[j])
        j -= 1
    return " ".join(text)


def test_recorded_facts_below_high_confidence_say_why() -> None:
    for name, recorded in FACTS.items():
        if recorded.confidence is not Confidence.HIGH:
            comment = _comment_above(LINES[name])
            assert re.search(rf"\b{recorded.confidence.value}:", comment), (
                f"facts.py:{LINES[name]}: {name} is of confidence {recorded.confidence} without a comment saying why"
            )


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _python_files(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def _reads(path: Path) -> set[str]:
    """Names of facts.py a file reads: ``facts.NAME``, ``from validator.facts import NAME``, and
    inside facts.py itself every name loaded (a function, another fact, a row citing a source)."""
    text = path.read_text(encoding="utf-8")
    in_facts = path.resolve() == FACTS_FILE
    found: set[str] = set()
    if "facts" not in text:
        return found
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "facts":
            found.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("facts"):
            found.update(alias.name for alias in node.names)
        elif in_facts and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
    return found


def test_no_fact_is_unread() -> None:
    this = Path(__file__).resolve()
    read: set[str] = set()
    for path in _python_files(*READERS):
        if path.resolve() != this:
            read |= _reads(path)
    unread = sorted(name for name in CONSTANTS if name not in read and name not in NOT_FACTS)
    assert unread == [], f"facts nothing reads (use them or remove them): {', '.join(unread)}"


def _same(literal: object, value: object) -> bool:
    if isinstance(literal, bool) or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return literal == value
    if isinstance(value, int | float):
        return isinstance(literal, int | float) and literal == value
    return False


def test_no_distinctive_fact_is_copied_as_a_literal() -> None:
    distinctive = [f for f in FACTS.values() if f.distinctive]
    assert {"DEFAULT_PORT", "ENGINE_MODE", "ACU_MAX_OLD", "ENGINE"} <= {f.name for f in distinctive}
    copies = []
    for path in _python_files("validator"):
        if path.resolve() == FACTS_FILE:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str | int | float):
                continue
            for recorded in distinctive:
                if _same(node.value, recorded.value) and (relative, node.value) not in COINCIDENCES:
                    copies.append(f"{relative}:{node.lineno}: {node.value!r} is facts.{recorded.name}")
    assert copies == [], "literal copies of facts:\n" + "\n".join(copies)


def test_the_coincidences_are_still_there() -> None:
    """An exemption whose literal has gone would hide the next copy: remove it with the literal."""
    for relative, value in COINCIDENCES:
        constants = [
            node.value
            for node in ast.walk(_tree((ROOT / relative).resolve()))
            if isinstance(node, ast.Constant)
        ]
        assert any(_same(c, value) for c in constants), (relative, value)
