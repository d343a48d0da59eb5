"""Resource records: the common shape Terraform sources (HCL, plan JSON) produce.

A record is one resource instance with its arguments as model values (each
with provenance) and its nested blocks as records. ``mapping`` turns
records into the model, so HCL and plan share one mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from validator.model import Location, Unknown, Value

# The argument of a record whose dynamic blocks could not be expanded (its reason is the Unknown).
DYNAMIC_UNKNOWN = "__dynamic__"


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


def refs_of(value: Any) -> tuple[str, ...]:
    """The resource addresses a value refers to."""
    if isinstance(value, Unknown | RefStr):
        return value.refs
    if isinstance(value, ResourceObj):
        return (value.address,)
    return ()


@dataclass
class Record:
    type: str
    address: str  # e.g. module.aurora.aws_rds_cluster.aurora_cluster
    origin: Location  # the block's first line
    end_line: int | None = None
    attrs: dict[str, Value[Any]] = field(default_factory=dict)
    blocks: dict[str, list[Record]] = field(default_factory=dict)
    # Attribute names written in the configuration (as opposed to defaults or computed).
    written: set[str] = field(default_factory=set)
    # Why this record may stand for no instance or several (count/for_each unknown); "" otherwise.
    multiplicity: str = ""

    def get(self, name: str) -> Value[Any] | None:
        return self.attrs.get(name)

    def block(self, name: str) -> Record | None:
        found = self.blocks.get(name) or []
        return found[0] if found else None
