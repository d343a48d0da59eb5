"""References through a Terraform module tree: their grammar, and the one walk that follows them.

A module instance is addressed ``module.NAME[KEY].`` below its parent (``module.a["x"].module.b.``);
the module loader builds these addresses, the plan source reads them back. Inside a module,
``var.NAME`` leads up to the calling block's argument, ``module.NAME.OUTPUT`` leads down to the
output of that call's instances, and ``TYPE.NAME`` is a resource of the module. One walk follows
them, bounded by :data:`validator.limits.MAX_REFERENCE_DEPTH`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from validator import limits

__all__ = [
    "NOT_RESOURCES",
    "ModuleScope",
    "instance_key",
    "module_path",
    "module_prefix",
    "parts",
    "resources",
    "split_index",
    "within_depth",
]

# Heads of references that are no resource of the module (and lead to none a plan can name).
NOT_RESOURCES = frozenset({"local", "count", "each", "path", "terraform", "self", "data"})
_PART = re.compile(r"[^.\[]+(?:\[[^\]]*\])*")
_INDEXED = re.compile(r"^([^\[]+)(\[.*\])?$")


def parts(ref: str) -> list[str]:
    """``module.a["x"].out`` -> ``["module", 'a["x"]', "out"]``: the steps, each with its index."""
    return _PART.findall(ref)


def split_index(part: str) -> tuple[str, str]:
    """``a["x"]`` -> ``("a", '["x"]')``; ``a`` -> ``("a", "")``."""
    m = _INDEXED.match(part)
    return (m.group(1), m.group(2) or "") if m else (part, "")


def instance_key(key: Any) -> str:
    """The index of one instance of a ``count`` or ``for_each`` module call, as terraform writes it."""
    return "" if key is None else f"[{json.dumps(key)}]"


def module_prefix(parent: str, name: str, index: str = "") -> str:
    """The address prefix of an instance of module call ``name`` in the module at ``parent``."""
    return f"{parent}module.{name}{index}."


def module_path(address: str) -> list[tuple[str, str]] | None:
    """``module.a[0].module.b`` -> ``[("a", "[0]"), ("b", "")]``; None when it is no module address."""
    steps = parts(address)
    if len(steps) % 2:
        return None
    path: list[tuple[str, str]] = []
    for i in range(0, len(steps), 2):
        if steps[i] != "module":
            return None
        path.append(split_index(steps[i + 1]))
    return path


def within_depth(depth: int) -> bool:
    """Whether a walk ``depth`` steps deep may take another step."""
    return depth <= limits.MAX_REFERENCE_DEPTH


class ModuleScope(Protocol):
    """One module instance, as the walk sees it."""

    @property
    def prefix(self) -> str:
        """Its address prefix: "" for the root, ``module.a.`` for a child."""
        ...

    @property
    def parent(self) -> ModuleScope | None: ...

    def argument_references(self, name: str) -> Sequence[str] | None:
        """The references of the calling block's argument ``name`` (read in the parent); None if unset."""
        ...

    def instances(self, name: str, index: str) -> Sequence[ModuleScope]:
        """The instances of module call ``name`` (the one at ``index``, or every one)."""
        ...

    def output_references(self, name: str) -> Sequence[str]:
        """The references of output ``name``'s expression."""
        ...


def resources(scope: ModuleScope, references: Sequence[str], depth: int = 0) -> tuple[str, ...]:
    """Full addresses of the resources ``references`` lead to, in order, without repeats."""
    out: list[str] = []
    if not within_depth(depth):
        return ()
    for ref in references:
        for address in _one(scope, str(ref), depth):
            if address not in out:
                out.append(address)
    return tuple(out)


def _one(scope: ModuleScope, ref: str, depth: int) -> list[str]:
    steps = parts(ref)
    if not steps:
        return []
    head = steps[0]
    if head == "var" and len(steps) > 1:
        argument = scope.argument_references(steps[1])
        if scope.parent is not None and argument is not None:
            return list(resources(scope.parent, argument, depth + 1))
        return []
    if head == "module":
        if len(steps) < 3:
            return []  # "module.x" accompanies "module.x.output"
        name, index = split_index(steps[1])
        found: list[str] = []
        for child in scope.instances(name, index):
            found.extend(resources(child, child.output_references(split_index(steps[2])[0]), depth + 1))
        return found
    if head in NOT_RESOURCES or len(steps) < 2:
        return []
    return [f"{scope.prefix}{steps[0]}.{steps[1]}"]
