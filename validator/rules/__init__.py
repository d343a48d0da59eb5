"""The rule catalogue: every rule class, in id order."""

from __future__ import annotations

import importlib
from functools import lru_cache

from validator.rules.base import Result, Rule, Severity, Status

__all__ = ["Result", "Rule", "Severity", "Status", "all_rules", "get_rule"]

# Modules holding rules, by family. Each defines Rule subclasses.
RULE_MODULES = (
    "validator.rules.meta",  # AV0xx suppressions
    "validator.rules.serverless",  # AV1xx Serverless v2 invariants
    "validator.rules.bedrock",  # AV2xx Bedrock Knowledge Base readiness
    "validator.rules.security",  # AV3xx security
    "validator.rules.notes",  # AV4xx learning notes
    "validator.rules.live",  # AV5xx live-only
    "validator.rules.database",  # AV6xx database
)


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """One instance of every rule, sorted by id."""
    found: dict[str, Rule] = {}
    for name in RULE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # family not written yet
                continue
            raise
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and getattr(obj, "id", None):
                if obj.id in found and type(found[obj.id]) is not obj:
                    raise RuntimeError(f"duplicate rule id {obj.id}")
                found[obj.id] = obj()
    return tuple(found[k] for k in sorted(found))


def get_rule(rule_id: str) -> Rule | None:
    for rule in all_rules():
        if rule.id == rule_id.upper():
            return rule
    return None
