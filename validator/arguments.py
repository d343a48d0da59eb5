"""The command line's options: the scan parser and the options every checking mode shares.

Kept apart from ``validator.cli`` (which runs a command) so that shell completion and
documentation can build the parsers without importing the command runner.
"""

from __future__ import annotations

import argparse
from typing import Any

from validator import __version__
from validator.profiles import PROFILES
from validator.reporters import FORMATS as REPORTERS

RULESETS = PROFILES
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
