"""Static scan: Terraform root modules read as HCL."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from validator.engine import Finding, Report, evaluate
from validator.errors import InputError, UsageError

if TYPE_CHECKING:
    from validator.model import Deployment
    from validator.sources.hcl.cache import ParseCache


def parse_vars(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


@dataclass(frozen=True)
class ScanOptions:
    """What every root of a run is scanned with (sent to worker processes as is)."""

    var_files: tuple[str, ...] = ()
    cli_vars: tuple[tuple[str, str], ...] = ()
    profile: str = "default"
    cache: bool = True  # the on-disk parse cache (a run always shares trees in memory)
    cache_dir: str | None = None


@dataclass
class RootScan:
    """One root's share of a report: its deployment and findings, or the error that stopped it."""

    root: str
    deployment: Deployment | None = None
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # errors in the root's files
    failure: InputError | None = None  # the root could not be read at all


def options_from(args: argparse.Namespace) -> ScanOptions:
    return ScanOptions(
        var_files=tuple(args.var_file),
        cli_vars=tuple(parse_vars(args.var).items()),
        profile=args.rules_profile,
        cache=not getattr(args, "no_cache", False),
        cache_dir=getattr(args, "cache_dir", None),
    )


def open_cache(options: ScanOptions) -> ParseCache:
    from validator.sources.hcl.cache import open_cache

    return open_cache(options.cache, Path(options.cache_dir) if options.cache_dir else None)


def scan_root(root: Path, options: ScanOptions, cache: ParseCache | None) -> RootScan:
    """Load one root module and run the rules on it."""
    from validator.sources.hcl import load_root
    from validator.sources.hcl.module import Sources

    try:
        loaded = load_root(
            root,
            var_files=[Path(p) for p in options.var_files],
            cli_vars=dict(options.cli_vars),
            env=os.environ,
            sources=Sources(root, cache=cache),
        )
    except InputError as exc:
        return RootScan(str(root), failure=exc)
    return RootScan(
        str(root),
        loaded.deployment,
        evaluate(loaded.deployment, options.profile),
        [_under(root, e) for e in loaded.errors],
    )


def collect(args: argparse.Namespace) -> Report:
    from validator.roots import Exclude, resolve_roots

    options = options_from(args)
    excluded = Exclude(tuple(getattr(args, "exclude", None) or ()), Path(getattr(args, "exclude_base", ".")))
    discovered: dict[str, int] = {}
    roots, errors = resolve_roots(args.paths, excluded, discovered)
    for where, count in discovered.items():
        noun = "root module" if count == 1 else "root modules"
        print(f"aurora-validate: {where}: {count} {noun} found", file=sys.stderr)
    if discovered and not getattr(args, "config", None):
        _note_unused_configurations(roots, getattr(args, "config_file", None))
    report = Report(errors=list(errors), profile=args.rules_profile)
    jobs = getattr(args, "jobs", None)
    if len(roots) > 1 and jobs != 1:
        from validator.parallel import scan_roots

        scans = scan_roots(roots, options, jobs)
    else:
        cache = open_cache(options)
        scans = (scan_root(root, options, cache) for root in roots)
    for scan in scans:
        if scan.failure is not None:
            report.errors.append(scan.failure)
            continue
        assert scan.deployment is not None
        report.errors.extend(scan.errors)
        report.roots.append(scan.root)
        report.deployments.append(scan.deployment)
        report.findings.extend(scan.findings)
    if not report.roots and not report.errors:
        raise UsageError("no Terraform root module found")
    return report


def _note_unused_configurations(roots: list[Path], used: str | None) -> None:
    """Say so when a root found below the scanned directory has a configuration of its own."""
    from validator.config import find_config
    from validator.roots import _display

    used_path = Path(used).resolve() if used else None
    for root in roots:
        found = find_config(root)
        if found is not None and found[0].resolve() != used_path:
            print(
                f"aurora-validate: note: {_display(found[0])} is not used when scanning the directory above {root}; "
                f"scan {root} on its own, or pass --config",
                file=sys.stderr,
            )


def _under(root: Path, error: InputError) -> InputError:
    """Name the file by its path from the current directory, not from the root."""
    if error.where.startswith(("/", "..")) or str(root) in (".", ""):
        return error
    return InputError(f"{root.as_posix()}/{error.where}", error.message, error.kind)
