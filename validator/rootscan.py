"""One root module scanned: loaded from HCL, checked by every rule, its errors named from here.

What a worker process runs for each root of a parallel scan (``validator.parallel``) and what the
static command runs in its own process; neither needs the other's module.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from validator import redact
from validator.engine import evaluate
from validator.errors import InputError, internal_error_line
from validator.findings import Finding

if TYPE_CHECKING:
    from validator.model import Deployment
    from validator.sources.terraform.hcl.cache import ParseCache


@dataclass(frozen=True)
class ScanOptions:
    """What every root of a run is scanned with (sent to worker processes as is)."""

    var_files: tuple[str, ...] = ()
    cli_vars: tuple[tuple[str, str], ...] = ()
    profile: str = "default"
    cache: bool = True  # the on-disk parse cache (a run always shares trees in memory)
    cache_dir: str | None = None
    debug: bool = False  # print the traceback of a root's internal error
    # Keep each deployment whole for the report (the HTML report draws them). Otherwise a root's
    # deployment is kept in outline (``outline``), so a run's memory is that of its findings.
    keep_models: bool = True


@dataclass
class RootScan:
    """One root's share of a report: its deployment and findings, or the error that stopped it."""

    root: str
    deployment: Deployment | None = None
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # errors in the root's files
    failure: InputError | None = None  # the root could not be read at all
    secrets: tuple[str, ...] = ()  # sensitive values met (workers send them to the parent's redaction)
    # Source lines holding a sensitive value, (display path, line), and the values themselves, from a
    # deployment kept in outline (the text report hides those lines; ``redact.sensitive_places``).
    sensitive_lines: frozenset[tuple[str, int]] = frozenset()
    sensitive_texts: frozenset[str] = frozenset()


def open_cache(options: ScanOptions) -> ParseCache:
    from validator.sources.terraform.hcl.cache import open_cache

    return open_cache(options.cache, Path(options.cache_dir) if options.cache_dir else None)


def scan_root(root: Path, options: ScanOptions, cache: ParseCache | None) -> RootScan:
    """Load one root module and run the rules on it."""
    from validator.sources.terraform.hcl import load_root
    from validator.sources.terraform.hcl.module import ParsedFiles

    try:
        loaded = load_root(
            root,
            var_files=[Path(p) for p in options.var_files],
            cli_vars=dict(options.cli_vars),
            env=os.environ,
            files=ParsedFiles(root, cache=cache),
        )
        deployment = loaded.deployment
        findings = evaluate(deployment, options.profile)
    except Exception as exc:  # one root's failure (even an internal error) must not hide the others
        return RootScan(str(root), failure=root_failure(root, exc, options.debug), secrets=redact.remembered())
    scan = RootScan(str(root), deployment, findings, [under_root(root, e) for e in loaded.errors],
                    secrets=redact.remembered())
    if not options.keep_models:
        lines, texts = redact.sensitive_places(deployment)
        scan.deployment = outline(deployment)
        scan.sensitive_lines, scan.sensitive_texts = frozenset(lines), frozenset(texts)
    return scan


def outline(deployment: Deployment) -> Deployment:
    """What is read of a deployment once its rules ran, unless a report draws it: its kind, root,
    provider and account (for the reporters), and its inline suppressions with the resource spans
    they are matched on (``suppressions.apply_suppressions``).

    The clusters, groups and knowledge bases the rules read are most of a run's memory once checked.
    """
    from validator.model import Deployment

    return Deployment(
        deployment.kind,
        deployment.root,
        provider=deployment.provider,
        account=deployment.account,
        suppressions=deployment.suppressions,
        spans=deployment.spans if deployment.suppressions else {},
    )


def root_failure(root: Path | str, exc: Exception, debug: bool = False) -> InputError:
    """An input error for a root whose scan failed unexpectedly (the traceback with --debug)."""
    if isinstance(exc, InputError):
        return exc
    if debug:
        import traceback

        sys.stderr.write(redact.scrub("".join(traceback.format_exception(exc))))
    return InputError(str(root), f"not checked: {internal_error_line(exc)}", "error")


def under_root(root: Path, error: InputError) -> InputError:
    """Name the file by its path from the current directory, not from the root."""
    if error.where.startswith(("/", "..")) or str(root) in (".", ""):
        return error
    return InputError(f"{root.as_posix()}/{error.where}", error.message, error.kind)
