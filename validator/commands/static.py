"""Static scan: Terraform root modules read as HCL."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from validator.errors import InputError, UsageError
from validator.findings import Report
from validator.rootscan import RootScan, ScanOptions, open_cache, scan_root

if TYPE_CHECKING:
    pass


def parse_vars(pairs: list[str]) -> dict[str, str]:
    from validator import redact

    out = {}
    for n, pair in enumerate(pairs, 1):
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            # The argument is not echoed: it may be a password given without its name.
            raise UsageError(f"--var (occurrence {n}): expected NAME=VALUE")
        out[name.strip()] = value
        if redact.is_secret_name(name):
            redact.remember(value)
    return out


def options_from(args: argparse.Namespace) -> ScanOptions:
    return ScanOptions(
        var_files=tuple(args.var_file),
        cli_vars=tuple(parse_vars(args.var).items()),
        profile=args.rules_profile,
        cache=not getattr(args, "no_cache", False),
        cache_dir=getattr(args, "cache_dir", None),
        debug=getattr(args, "debug", False),
        keep_models=draws_deployments(args),
    )


def draws_deployments(args: argparse.Namespace) -> bool:
    """Whether a report the run writes draws whole deployments (others read only their outline)."""
    from validator.reporters import MODEL_FORMATS

    formats = {getattr(args, "format", "text"), *(fmt for fmt, _path in getattr(args, "reports", []) or [])}
    return bool(formats & MODEL_FORMATS)


def usable_var_files(paths: list[str]) -> tuple[list[Path], list[InputError]]:
    """The --var-file paths that are readable files, and an input error for each other one."""
    from validator import limits

    good, errors = [], []
    for raw in paths:
        problem = limits.describe_non_file(Path(raw))
        if problem is None:
            good.append(Path(raw))
        else:
            message = "variable file not found" if problem == "not found" else f"variable file is {problem}"
            errors.append(InputError(f"--var-file {raw}", message, "error"))
    return good, errors


def collect(args: argparse.Namespace) -> Report:
    from validator import redact
    from validator.sources.terraform.roots import Exclude, resolve_roots

    var_files, var_file_errors = usable_var_files(args.var_file)  # a bad one is reported once, not per root
    options = replace(options_from(args), var_files=tuple(str(p) for p in var_files))
    excluded = Exclude(tuple(getattr(args, "exclude", None) or ()), Path(getattr(args, "exclude_base", ".")))
    discovered: dict[str, int] = {}
    roots, errors = resolve_roots(args.paths, excluded, discovered)
    for where, count in discovered.items():
        noun = "root module" if count == 1 else "root modules"
        print(f"aurora-validate: {where}: {count} {noun} found", file=sys.stderr)
    if discovered and not getattr(args, "config", None):
        _note_unused_configurations(roots, getattr(args, "config_file", None))
    report = Report(errors=[*var_file_errors, *errors], profile=args.rules_profile)
    jobs = getattr(args, "jobs", None)
    scans: Iterable[RootScan]
    if len(roots) > 1 and jobs != 1:
        from validator.parallel import scan_roots

        scans = scan_roots(roots, options, jobs)
    else:
        cache = open_cache(options)
        scans = (scan_root(root, options, cache) for root in roots)
    for scan in scans:
        redact.remember(list(scan.secrets))
        if scan.failure is not None:
            report.errors.append(scan.failure)
            continue
        assert scan.deployment is not None
        report.errors.extend(scan.errors)
        report.roots.append(scan.root)
        report.deployments.append(scan.deployment)
        report.findings.extend(scan.findings)
        report.sensitive_lines |= scan.sensitive_lines
        report.sensitive_texts |= scan.sensitive_texts
    if not report.roots and not report.errors:
        raise UsageError("no Terraform root module found")
    return report


def _note_unused_configurations(roots: list[Path], used: str | None) -> None:
    """Say so when a root found below the scanned directory has a configuration of its own."""
    from validator.config import ConfigLookup
    from validator.sources.terraform.roots import _display

    used_path = Path(used).resolve() if used else None
    lookup = ConfigLookup()
    for root in roots:
        found = lookup.find(root)
        if found is not None and found[0].resolve() != used_path:
            print(
                f"aurora-validate: note: {_display(found[0])} is not used when scanning the directory above {root}; "
                f"scan {root} on its own, or pass --config",
                file=sys.stderr,
            )
