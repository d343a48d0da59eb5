"""The ``aurora-validate`` command line.

Start-up stays lazy: the static path never imports boto3 or psycopg, and the
HCL parser is loaded only when there is HCL to read.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from validator import __version__
from validator.reporters import FORMATS as REPORTERS

if TYPE_CHECKING:
    from validator.engine import Report

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_INPUT = 2
EXIT_ACCESS_DENIED = 3
EXIT_INTERNAL = 4

RULESETS = ("default", "bedrock-kb")
RULE_PROFILES = RULESETS  # the former name
FORMATS = REPORTERS  # every registered reporter is a --format and a --report format
SUBCOMMANDS = ("rules", "explain", "db", "demo", "export", "completion")

EPILOG = """\
commands:
  aurora-validate PATH ...                 scan Terraform root modules (files: their root modules;
                                           a directory without .tf files: every root module below it)
  aurora-validate PATH --report sarif=F    text on the terminal, and a SARIF report in F (repeatable)
  aurora-validate --plan plan.json [DIR]   scan `terraform show -json` output (DIR: for file:line)
  aurora-validate --live --cluster X       audit a deployed cluster (read-only AWS calls)
  aurora-validate db --dsn URL             check pgvector and the Bedrock table in a database
  aurora-validate rules [--format json]    list the rule catalogue
  aurora-validate explain AV106            rationale, AWS documentation and Terraform fix
  aurora-validate demo                     deploy the reference to a local AWS endpoint and audit it
  aurora-validate export checkov DIR       write checkov custom policies for the rules it can express
  aurora-validate export securityhub FILE  import an ASFF report (--report asff=FILE) into AWS Security Hub
  aurora-validate completion bash|zsh      print a shell completion script

exit codes:
  0  no failure at or above the --fail-on level (default: error)
  1  at least one failure at or above the --fail-on level; with --fail-on-unresolved (configuration
     key fail-on-unresolved = true), also at least one unresolved result (a value the scan could not
     know, a module it could not read)
  2  usage or input error: a file that does not parse, a missing path, no Terraform found,
     a database that refuses the connection (other inputs are still checked and reported)
  3  AWS refused or failed a call the audit needs (the finding names the operation and,
     for a refusal, the missing permission)
  --soft-fail makes 1 a 0; 2 and 3 stay
  4  internal error: a bug in aurora-validate, not a finding (run again with --debug for the traceback)
"""


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Options every checking mode shares."""
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format", "-f", action=_OnceAction, choices=FORMATS, default=None, help="report format (default: text)"
    )
    out.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="FMT=FILE",
        help="also write a report in FMT to FILE (repeatable: --report sarif=results.sarif --report junit=junit.xml)",
    )
    out.add_argument("--compact", action="store_true", help="text: one line per finding")
    out.add_argument("--quiet", "-q", action="store_true", help="text: failures and the summary only")
    out.add_argument(
        "--ruleset",
        choices=RULESETS,
        default=None,
        help="rule profile: default, or bedrock-kb (Knowledge Base readiness rules become errors)",
    )
    out.add_argument("--rules-profile", dest="ruleset", choices=RULESETS, default=None, help=argparse.SUPPRESS)
    out.add_argument("--profile", dest="aws_profile", metavar="NAME", default=None, help="AWS named profile")
    out.add_argument("--aws-profile", dest="aws_profile", metavar="NAME", default=None, help=argparse.SUPPRESS)
    out.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: .aurora-validate.toml or [tool.aurora-validate] in pyproject.toml, "
        "looked up from the scanned path up to the repository root)",
    )
    out.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        default=None,
        help="lowest severity whose failures make the exit code 1 (default: error)",
    )
    out.add_argument(
        "--fail-on-unresolved",
        action="store_true",
        default=None,
        help="exit code 1 also when a result is unresolved (a value or module the scan could not read); "
        "for strict gates (default: off)",
    )
    out.add_argument("--soft-fail", action="store_true", help="report failures but exit 0 (input errors still exit 2)")
    out.add_argument("--show-passed", action="store_true", help="also list passed checks")
    out.add_argument("--select", metavar="IDS", help="only these rule ids (comma-separated)")
    out.add_argument("--skip", metavar="IDS", help="skip these rule ids (comma-separated)")
    out.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE")
    out.add_argument("--write-baseline", metavar="FILE", help="record today's findings in FILE")
    out.add_argument("--no-color", action="store_true", help="plain text even on a terminal (also: NO_COLOR=1)")
    out.add_argument("--debug", action="store_true", help="print the traceback of an internal error")


class _OnceAction(argparse.Action):
    """``--format`` names the one format of standard output (or -o); more reports go to --report."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        previous = getattr(namespace, self.dest, None)
        if previous is not None and previous != values:
            parser.error(
                f"--format given twice ({previous}, {values}); one run writes several reports with "
                f"--report FMT=FILE, e.g. --format {previous} --report {values}=report.{values}"
            )
        setattr(namespace, self.dest, values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aurora-validate",
        description="Check Aurora PostgreSQL Serverless v2 (the pgvector store of Bedrock Knowledge Bases) "
        "in Terraform, plan JSON, live AWS and the database.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="Terraform root modules, or .tf/.tfvars files")
    parser.add_argument("--version", "-V", action="version", version=f"aurora-validate {__version__}")
    tf = parser.add_argument_group("terraform")
    tf.add_argument("--var-file", action="append", default=[], metavar="FILE", help="a .tfvars file (repeatable)")
    tf.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable (repeatable)")
    tf.add_argument("--plan", metavar="PLAN_JSON", help="read `terraform show -json` output")
    speed = parser.add_argument_group("speed")
    speed.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="scan root modules in N worker processes (default: one per CPU; 1: in this process); "
        "with --live: read N regions at once, across accounts (default 8)",
    )
    speed.add_argument(
        "--no-cache",
        action="store_true",
        help="parse every file, without the parse cache (also: AURORA_VALIDATE_NO_CACHE=1)",
    )
    speed.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=None,
        help="parse cache directory (default: $XDG_CACHE_HOME/aurora-validate, or AURORA_VALIDATE_CACHE_DIR)",
    )
    live = parser.add_argument_group("live audit")
    live.add_argument("--live", action="store_true", help="audit deployed clusters through the AWS API")
    live.add_argument("--cluster", action="append", default=[], metavar="ID", help="cluster identifier or ARN")
    live.add_argument("--all", action="store_true", help="every Aurora PostgreSQL cluster in the regions")
    live.add_argument("--region", action="append", default=[], metavar="REGION", help="AWS region (repeatable)")
    live.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint (LocalStack, moto); AWS_ENDPOINT_URL works")
    live.add_argument("--localstack", action="store_true", help="use the LocalStack endpoint (LOCALSTACK_HOST)")
    live.add_argument(
        "--accounts",
        action="append",
        default=[],
        metavar="ID,...",
        help="audit these AWS accounts (12-digit ids, comma-separated or repeated), assuming --role-name in each",
    )
    live.add_argument(
        "--organization",
        action="store_true",
        help="audit every active account of the AWS organization (organizations:ListAccounts)",
    )
    live.add_argument("--role-name", metavar="NAME", help="the role to assume in each account (or path/NAME)")
    live.add_argument(
        "--role-arn",
        metavar="TEMPLATE",
        help="the role to assume, as an ARN template: arn:aws:iam::{account}:role/NAME",
    )
    live.add_argument("--external-id", metavar="ID", help="the external id the roles' trust policy asks for")
    live.add_argument(
        "--role-session-name", metavar="NAME", help="sts:AssumeRole session name (default aurora-validate)"
    )
    live.add_argument(
        "--role-duration",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how long the assumed credentials last (900 to 43200; default 3600)",
    )
    live.add_argument(
        "--aws-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="most time one AWS call may take, retries included (default 20; reads time out at half of it)",
    )
    add_output_options(parser)
    return parser


def _split_profile(args: argparse.Namespace) -> None:
    """``--ruleset`` is the rule profile; ``--profile`` is only ever an AWS named profile."""
    if args.aws_profile in RULESETS and args.aws_profile != "default":
        raise _Usage(f"--profile names an AWS profile; the rule profile is --ruleset {args.aws_profile}")
    args.rules_profile = args.ruleset = args.ruleset or "default"


class _Usage(Exception):
    pass


def _jobs(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more) or auto, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from validator import redact

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

    if debug:
        import traceback

        sys.stderr.write(redact.scrub("".join(traceback.format_exception(exc))))
    from validator.errors import internal_error_line

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
    except _Usage as exc:
        print(f"aurora-validate: error: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
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
    import difflib

    if word.startswith("-") or os.path.exists(word) or "/" in word or "." in word:
        return
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    if close:
        raise _Usage(f"unknown command {word!r}, did you mean {close[0]}? (a path {word!r} does not exist either)")


def _settle(args: argparse.Namespace) -> None:
    """Apply configuration files and profile naming; command-line options win."""
    from validator.config import apply_config, check_rule_ids
    from validator.engine import rule_ids

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


def _report_targets(values: list[str]) -> list[tuple[str, str]]:
    """``--report FMT=FILE`` values as (format, file); any registered reporter is a format."""
    out: list[tuple[str, str]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise _Usage(f"--report {value!r}: expected FMT=FILE, e.g. --report sarif=results.sarif")
        if fmt not in REPORTERS:
            raise _Usage(f"--report {value!r}: unknown format {fmt!r} (choose from {', '.join(REPORTERS)})")
        if path in [p for _f, p in out]:
            raise _Usage(f"--report {value!r}: {path} is already the file of another report")
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
    apply_filters(report, args)
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
