"""The sources, and the one registry of them.

A source turns one kind of input (Terraform HCL, a plan JSON document, AWS answers, a
database catalog) into :class:`~validator.model.Deployment` objects of one ``kind``, and
reports what it could not read as :class:`~validator.errors.InputError` objects.

Every list of source kinds is derived from :data:`SOURCES`: the rules' default ``sources``,
the rules table's Sources column, the checkov exporter's "reads Terraform" test. Adding a
source is one loader module and one entry here.

This module imports no loader: each source imports its own on ``load``, so the static
path never loads boto3 or psycopg.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from validator.lazy_dataclass import lazy_dataclass

if TYPE_CHECKING:
    from validator.errors import InputError
    from validator.model import Deployment

__all__ = [
    "INFRASTRUCTURE_KINDS",
    "KINDS",
    "SOURCES",
    "TERRAFORM_KINDS",
    "Loaded",
    "RegisteredSource",
    "Source",
    "kinds",
    "ordered",
    "source",
]

RequestT_contra = TypeVar("RequestT_contra", contravariant=True)


@lazy_dataclass
class Loaded:
    """What one load of a source gives: its deployments and the input errors met on the way."""

    deployments: list[Deployment]
    errors: list[InputError] = field(default_factory=list)


class Source(Protocol[RequestT_contra]):
    """One kind of input the rules can run on."""

    @property
    def kind(self) -> str:
        """``Deployment.kind`` of what it loads ("hcl")."""
        ...

    def load(self, request: RequestT_contra) -> Loaded:
        """Read the input ``request`` names; an input that cannot be read at all raises InputError."""
        ...


@dataclass(frozen=True)
class RegisteredSource:
    """A source in the registry: its kind, what it describes, and where its loader lives.

    ``loader`` is ``"module:function"``; the function takes the source's request and returns
    :class:`Loaded`. It is imported on the first ``load`` only.
    """

    kind: str
    title: str  # for people ("Terraform HCL")
    loader: str
    # Reads a Terraform configuration or plan: values have a file and line, literals and inline
    # suppressions are known, arguments are as written (the rules about those read only these kinds).
    terraform: bool = False
    # Describes the infrastructure (clusters, networks, knowledge bases), as opposed to what is
    # inside a database; a rule reads these kinds unless it says otherwise.
    infrastructure: bool = True

    def load(self, request: Any) -> Loaded:
        module_name, _, function = self.loader.partition(":")
        func: Callable[[Any], Loaded] = getattr(importlib.import_module(module_name), function)
        return func(request)


# The registry, in the order the sources are shown (the rules table's Sources column).
SOURCES: tuple[RegisteredSource, ...] = (
    RegisteredSource("hcl", "Terraform HCL", "validator.sources.terraform.source:load_hcl", terraform=True),
    RegisteredSource("plan", "Terraform plan JSON", "validator.sources.terraform.source:load_plan", terraform=True),
    RegisteredSource("live", "live AWS state", "validator.sources.aws.source:load_live"),
    RegisteredSource(
        "database", "the knowledge base's database", "validator.sources.database:load_database", infrastructure=False
    ),
)


def kinds(where: Callable[[RegisteredSource], bool] = lambda s: True) -> frozenset[str]:
    """The kinds of the registered sources for which ``where`` holds."""
    return frozenset(s.kind for s in SOURCES if where(s))


KINDS: tuple[str, ...] = tuple(s.kind for s in SOURCES)
TERRAFORM_KINDS: frozenset[str] = kinds(lambda s: s.terraform)
INFRASTRUCTURE_KINDS: frozenset[str] = kinds(lambda s: s.infrastructure)


def source(kind: str) -> RegisteredSource:
    """The registered source of ``kind``; KeyError names the known kinds."""
    for registered in SOURCES:
        if registered.kind == kind:
            return registered
    raise KeyError(f"no source of kind {kind!r}; known: {', '.join(KINDS)}")


def ordered(selected: Sequence[str] | frozenset[str]) -> list[str]:
    """``selected`` in the registry's order (unknown kinds last, sorted)."""
    chosen = set(selected)
    return [k for k in KINDS if k in chosen] + sorted(chosen - set(KINDS))
