"""What a rule is: metadata plus a pure function of the model.

A rule never parses and never calls AWS. It yields three-state results:
pass, fail, or unresolved with the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from validator.model import NOWHERE, Cluster, Deployment, Location, Value
from validator.sources import INFRASTRUCTURE_KINDS


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True, slots=True)
class Result:
    status: Status
    message: str
    resource: str
    location: Location = NOWHERE


class Rule:
    """Base class: one subclass per rule, cfn-lint style."""

    id: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    rationale: ClassVar[str]
    risk: ClassVar[str] = ""
    doc_url: ClassVar[str]
    fix: ClassVar[str]  # a Terraform snippet
    # Severity overrides per profile, e.g. {"bedrock-kb": Severity.ERROR}.
    profile_severity: ClassVar[dict[str, Severity]] = {}
    # Source kinds the rule reads (``validator.sources.KINDS``); by default every source
    # that describes the infrastructure.
    sources: ClassVar[frozenset[str]] = INFRASTRUCTURE_KINDS
    # Whether the checkov export can express the rule (see exporters).
    category: ClassVar[str] = ""
    # False for a rule whose findings are passes or unresolved, never failures.
    can_fail: ClassVar[bool] = True

    def check(self, deployment: Deployment) -> Iterator[Result]:
        raise NotImplementedError

    def severity_for(self, profile: str) -> Severity:
        return self.profile_severity.get(profile, self.severity)

    # Helpers for subclasses -------------------------------------------------

    @staticmethod
    def passed(resource: str, message: str, location: Location = NOWHERE) -> Result:
        return Result(Status.PASS, message, resource, location)

    @staticmethod
    def failed(resource: str, message: str, location: Location = NOWHERE) -> Result:
        return Result(Status.FAIL, message, resource, location)

    @staticmethod
    def unresolved(resource: str, value: Value[Any], what: str) -> Result:
        return Result(
            Status.UNRESOLVED,
            f"{what} cannot be determined: {value.reason}",
            resource,
            value.origin,
        )


class ClusterRule(Rule):
    """A rule checked on each cluster in turn: the subclass writes ``check_cluster`` only."""

    def check(self, deployment: Deployment) -> Iterator[Result]:
        for cluster in deployment.clusters:
            yield from self.check_cluster(cluster, deployment)

    def check_cluster(self, cluster: Cluster, deployment: Deployment) -> Iterator[Result]:
        raise NotImplementedError
