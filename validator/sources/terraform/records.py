"""Resource records: the common shape Terraform sources (HCL, plan JSON) produce.

A record is one resource instance with its arguments as model values (each
with provenance) and its nested blocks as records. ``terraform_model`` turns
records into the model, so HCL and plan share one mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validator.model import Location, Value


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
