"""The ``aurora-validate`` command line.

Start-up stays lazy: the static path never imports boto3 or psycopg, and the
HCL parser is loaded only when there is HCL to read (so even light modules are imported
where they are used: ``--help`` and ``--version`` load no dataclasses). The options are defined in
``validator.arguments``; this module runs a command and does its I/O: reading the
configuration, printing errors and notes, writing reports.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from validator.arguments import (
    EPILOG,
    FORMATS,
    RULE_PROFILES,
    RULESETS,
    SUBCOMMANDS,
    add_output_options,
    build_parser,
)
from validator.reporters import FORMATS as REPORTERS

if TYPE_CHECKING:
    from validator.engine import FilterOptions
    from validator.findings import Report

__all__ = [
    "EPILOG",
    "EXIT_ACCESS_DENIED",
    "EXIT_FAILURES",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "FORMATS",
    "RULESETS",
    "RULE_PROFILES",
    "SUBCOMMANDS",
    "add_output_options",
    "build_parser",
    "filter_options",
    "main",
    "rule_ids",
]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_INPUT = 2
EXIT_ACCESS_DENIED = 3
EXIT_INTERNAL = 4


def _split_profile(args: argparse.Namespace) -> None:
    """``--ruleset`` is the rule profile; ``--profile`` is only ever an AWS named profile."""
    from validator.errors import UsageError

    if args.aws_profile in RULESETS and args.aws_profile != "default":
        raise UsageError(f"--profile names an AWS profile; the rule profile is --ruleset {args.aws_profile}")
    args.rules_profile = args.ruleset = args.ruleset or "default"




def main(argv: Sequence[str] | None = None) -> int:
    from validator import redact

    argv = list(sys.argv[1:] if argv is None else argv)
    redact.forget()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("aurora-validate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last resort: one line and a code of its own, never a bare traceback
        return internal_error(exc, debug="--debug" in argv)


def internal_error(exc: BaseException, debug: bool = False) -> int:
    """Report an unexpected exception in one line (the traceback with ``--debug``); exit code 4."""
    from validator import redact
    from validator.errors import internal_error_line

    if debug:
        import traceback

        sys.stderr.write(redact.scrub("".join(traceback.format_exception(exc))))
    print(f"aurora-validate: {internal_error_line(exc)}", file=sys.stderr)
    return EXIT_INTERNAL


def _main(argv: list[str]) -> int:
    from validator.errors import AccessDenied, InputError, UsageError
    from validator.redact import scrub

    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    rest = [a for a in argv[1:] if a != "--debug"]  # every command accepts --debug (see main)
    try:
        if command is None and argv:
            _check_command_word(argv[0])
        if command == "completion":
            from validator.completion import main as completion_main

            return completion_main(argv[1:])
        if command in ("rules", "explain"):
            from validator.commands import catalogue

            return catalogue.main(command, rest)
        if command == "demo":
            from validator import demo

            return demo.main(rest)
        if command == "export":
            from validator.commands import export

            return export.main(rest)
        if command == "db":
            from validator.commands import db

            parser = argparse.ArgumentParser(prog="aurora-validate db", description="Check the database itself.")
            db.add_arguments(parser)
            parser.add_argument("paths", nargs="*", metavar="TERRAFORM_DIR")
            add_output_options(parser)
            args = parser.parse_args(argv[1:])
            args.command = "db"
            _settle(args)
            report = db.collect(args)
        else:
            parser = build_parser()
            args = parser.parse_args(argv)
            args.command = None
            _settle(args)
            report = _collect(args, parser)
    except UsageError as exc:
        print(f"aurora-validate: error: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"aurora-validate: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except AccessDenied as exc:
        print(f"aurora-validate: {exc.label}: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_ACCESS_DENIED
    return _finish(args, report)


def _check_command_word(word: str) -> None:
    """A first word that is no path but close to a command is a typo of the command."""
    if word.startswith("-") or os.path.exists(word) or "/" in word or "." in word:
        return
    import difflib

    from validator.errors import UsageError

    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    if close:
        raise UsageError(f"unknown command {word!r}, did you mean {close[0]}? (a path {word!r} does not exist either)")


def _settle(args: argparse.Namespace) -> None:
    """Apply configuration files and profile naming; command-line options win."""
    from validator.config import apply_config, check_rule_ids

    apply_config(args)
    _split_profile(args)
    args.reports = _report_targets(args.report)
    for option in ("select", "skip"):
        value = getattr(args, option, None)
        if value:
            check_rule_ids(sorted(rule_ids(value)), f"--{option}")
    if args.format is None:
        args.format = "text"
    if args.fail_on is None:
        args.fail_on = "error"
    if args.fail_on_unresolved is None:
        args.fail_on_unresolved = False


def rule_ids(text: str | None) -> frozenset[str]:
    """Rule ids from a comma-separated option value, upper-cased."""
    return frozenset(part.strip().upper() for part in (text or "").split(",") if part.strip())


def filter_options(args: argparse.Namespace) -> FilterOptions:
    """What the engine keeps of a run's findings, from the settled options (configuration applied)."""
    from validator.engine import FilterOptions

    return FilterOptions(
        select=rule_ids(args.select),
        skip=rule_ids(args.skip),
        baseline=Path(args.baseline) if args.baseline else None,
        write_baseline=Path(args.write_baseline) if args.write_baseline else None,
    )


def _report_targets(values: list[str]) -> list[tuple[str, str]]:
    """``--report FMT=FILE`` values as (format, file); any registered reporter is a format."""
    from validator.errors import UsageError

    out: list[tuple[str, str]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"--report {value!r}: expected FMT=FILE, e.g. --report sarif=results.sarif")
        if fmt not in REPORTERS:
            raise UsageError(f"--report {value!r}: unknown format {fmt!r} (choose from {', '.join(REPORTERS)})")
        if path in [p for _f, p in out]:
            raise UsageError(f"--report {value!r}: {path} is already the file of another report")
        out.append((fmt, path))
    return out


def _collect(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Report:
    from validator.errors import UsageError

    if args.live:
        from validator.commands import live

        return live.collect(args)
    if args.cluster or args.all:
        raise UsageError("--cluster and --all need --live")
    if args.plan:
        from validator.commands import plan

        return plan.collect(args)
    if not args.paths:
        parser.print_usage(sys.stderr)
        raise UsageError("give a Terraform directory or file (for example: aurora-validate reference/terraform)")
    from validator.commands import static

    return static.collect(args)


def _finish(args: argparse.Namespace, report: Report) -> int:
    from validator.engine import apply_filters
    from validator.redact import scrub, scrub_report
    from validator.rules import Severity

    scrub_report(report)  # before the baseline sees (and fingerprints) any message
    options = filter_options(args)
    outcome = apply_filters(report, options)
    if outcome.recorded is not None:
        print(f"aurora-validate: recorded {outcome.recorded} finding(s) in {options.write_baseline}", file=sys.stderr)
    written = _write(args, report, args.format, args.output, _color(args))
    for fmt, path in getattr(args, "reports", []):
        written = _write(args, report, fmt, path, False) and written
    for error in report.errors:
        print(f"aurora-validate: {scrub(str(error))}", file=sys.stderr)
    if not written:
        return EXIT_INPUT
    if report.denied or report.failed_calls:
        return EXIT_ACCESS_DENIED
    if report.errors:
        return EXIT_INPUT
    if args.soft_fail:
        return EXIT_OK
    if report.failures_at_or_above(Severity(args.fail_on)):
        return EXIT_FAILURES
    if args.fail_on_unresolved and report.unresolved():
        return EXIT_FAILURES
    return EXIT_OK


def _write(args: argparse.Namespace, report: Report, fmt: str, path: str | None, color: bool) -> bool:
    """Render one report to ``path`` (standard output when None); False when the file cannot be written."""
    from validator.errors import UsageError
    from validator.redact import scrub
    from validator.reporters import render

    try:
        text = scrub(
            render(report, fmt, show_passed=args.show_passed, color=color, compact=args.compact, quiet=args.quiet)
        )
    except UsageError as exc:  # a report the format cannot express (asff: a finding with no AWS account)
        print(f"aurora-validate: {path or 'standard output'}: error: {scrub(str(exc))}", file=sys.stderr)
        return False
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        print(f"aurora-validate: {path}: error: {exc.strerror}", file=sys.stderr)
        return False
    return True


def _color(args: argparse.Namespace) -> bool:
    """Colour on a terminal; never with NO_COLOR or --no-color; always with FORCE_COLOR."""
    if args.no_color or args.output or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


if __name__ == "__main__":
    sys.exit(main())
