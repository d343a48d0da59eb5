"""Run the rule catalogue on models, and filter the findings of a run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from validator.findings import PROFILES, Finding, Report
from validator.model import Deployment
from validator.rules import Rule, all_rules
from validator.suppressions import apply_suppressions

__all__ = ["PROFILES", "FilterOptions", "Finding", "Report", "apply_filters", "evaluate"]


def evaluate(
    deployment: Deployment,
    profile: str = "default",
    rules: Iterable[Rule] | None = None,
) -> list[Finding]:
    """Every applicable rule on one deployment."""
    out: list[Finding] = []
    for rule in rules if rules is not None else all_rules():
        if deployment.kind not in rule.sources:
            continue
        severity = rule.severity_for(profile)
        for result in rule.check(deployment):
            out.append(Finding(rule, severity, result, deployment.root, account=deployment.account))
    return out


@dataclass(frozen=True)
class FilterOptions:
    """Which findings of a run count: the command line builds it from its options and configuration."""

    select: frozenset[str] = frozenset()  # only these rule ids (empty: every rule)
    skip: frozenset[str] = frozenset()  # never these rule ids
    baseline: Path | None = None  # accepted findings: those recorded here count as suppressed
    write_baseline: Path | None = None  # record the findings that still count here


@dataclass(frozen=True)
class FilterOutcome:
    """What filtering did besides changing the report: the findings recorded in a new baseline."""

    recorded: int | None = None  # None: no baseline was written


def apply_filters(report: Report, options: FilterOptions) -> FilterOutcome:
    """Apply rule selection, inline suppressions and the baseline to a report in place.

    Problems with a baseline file become the report's input errors; nothing is printed.
    """
    select, skip = options.select, options.skip
    if select or skip:
        report.findings = [
            f for f in report.findings if (not select or f.rule_id in select) and f.rule_id not in skip
        ]
    apply_suppressions(report)
    if options.baseline is None and options.write_baseline is None:
        return FilterOutcome()
    from validator import baseline  # loads hashlib (OpenSSL): only for a run with a baseline

    if options.baseline is not None:
        baseline.apply(report, options.baseline)
    if options.write_baseline is None:
        return FilterOutcome()
    return FilterOutcome(recorded=baseline.write(report, options.write_baseline))
