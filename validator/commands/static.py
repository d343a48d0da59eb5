"""Static scan: Terraform root modules read as HCL."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from validator.engine import Report, evaluate
from validator.errors import InputError, UsageError


def parse_vars(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def collect(args: argparse.Namespace) -> Report:
    from validator.roots import Exclude, resolve_roots
    from validator.sources.hcl import load_root

    cli_vars = parse_vars(args.var)
    excluded = Exclude(tuple(getattr(args, "exclude", None) or ()), Path(getattr(args, "exclude_base", ".")))
    discovered: dict[str, int] = {}
    roots, errors = resolve_roots(args.paths, excluded, discovered)
    for where, count in discovered.items():
        noun = "root module" if count == 1 else "root modules"
        print(f"aurora-validate: {where}: {count} {noun} found", file=sys.stderr)
    if discovered and not getattr(args, "config", None):
        _note_unused_configurations(roots, getattr(args, "config_file", None))
    report = Report(errors=list(errors), profile=args.rules_profile)
    for root in roots:
        try:
            loaded = load_root(root, var_files=[Path(p) for p in args.var_file], cli_vars=cli_vars, env=os.environ)
        except InputError as exc:
            report.errors.append(exc)
            continue
        report.errors.extend(_under(root, e) for e in loaded.errors)
        report.roots.append(str(root))
        report.deployments.append(loaded.deployment)
        report.findings.extend(evaluate(loaded.deployment, args.rules_profile))
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
