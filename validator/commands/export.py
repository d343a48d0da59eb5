"""``aurora-validate export checkov DIR`` and ``aurora-validate export securityhub FILE``.

checkov: the rules as checkov custom policies. securityhub: an ASFF report
(``--report asff=FILE``) imported into AWS Security Hub, the one write
aurora-validate makes, through this command only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TARGETS = ("checkov", "securityhub")
EXIT_OK, EXIT_INPUT, EXIT_AWS = 0, 2, 3

EPILOG = """\
checkov: one YAML custom policy per rule (ids CKV2_AURORA_<n>); run them with
  `checkov -d TERRAFORM_DIR --external-checks-dir DIR`. Rules that checkov attribute checks
  cannot express are listed with the reason.
securityhub: FILE is an ASFF report (aurora-validate PATH --report asff=FILE). Every finding is
  checked with botocore's validator for securityhub:BatchImportFindings and against the caller's
  account (sts:GetCallerIdentity) before anything is sent; then BatchImportFindings, 100 findings
  per call, in the region of each finding's ProductArn. IAM: policy/aurora-validate-securityhub-import-policy.json.
  exit codes: 0 every finding imported; 2 a file or finding that cannot be imported (nothing is sent
  when a finding is invalid), no credentials, an endpoint with nothing listening; 3 AWS refused or
  failed a call, or rejected findings.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aurora-validate export",
        description="Write the rules as another tool's policies (checkov), or import findings into AWS "
        "Security Hub (securityhub).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", choices=TARGETS, help="checkov: policies; securityhub: import findings")
    parser.add_argument(
        "path",
        metavar="DIR|FILE",
        help="checkov: directory to write the policies into (created); securityhub: ASFF file",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the files written / the summary")
    aws = parser.add_argument_group("securityhub")
    aws.add_argument("--profile", dest="aws_profile", metavar="NAME", help="AWS named profile")
    aws.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint (moto, LocalStack); AWS_ENDPOINT_URL works")
    aws.add_argument(
        "--dry-run", action="store_true", help="check the findings (and the caller's account), send nothing"
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.target == "securityhub":
        return _securityhub(args)
    if args.aws_profile or args.endpoint_url or args.dry_run:
        from validator.errors import UsageError

        raise UsageError("--profile, --endpoint-url and --dry-run are for export securityhub")
    return _checkov(Path(args.path), args.quiet)


def _checkov(directory: Path, quiet: bool) -> int:
    from validator.exporters import checkov

    if directory.exists() and not directory.is_dir():
        print(f"aurora-validate: {directory}: error: exists and is not a directory", file=sys.stderr)
        return EXIT_INPUT
    try:
        written = checkov.export(directory)
    except OSError as exc:
        print(f"aurora-validate: {directory}: error: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    for policy, path in zip(checkov.POLICIES, written, strict=True):
        if quiet:
            print(path)
            continue
        part = f" ({policy.resource_type}.{policy.suffix})" if policy.suffix else ""
        note = f"; {policy.note}" if policy.note else ""
        print(f"{path}: {policy.rule_id}{part} -> {policy.policy_id}{note}")
    if not quiet:
        print("not exported (checkov attribute checks cannot express them):")
        for rule_id, reason in checkov.unexpressible().items():
            print(f"  {rule_id}: {reason}")
        print(f"run: checkov -d TERRAFORM_DIR --external-checks-dir {directory} --framework terraform")
    return EXIT_OK


def _securityhub(args: argparse.Namespace) -> int:
    # Input, usage and access errors reach the command line's handler, which prints them in one line.
    return _import(Path(args.path), args)


def _import(path: Path, args: argparse.Namespace) -> int:
    import os

    from validator.commands.live import request_from_args
    from validator.exporters import securityhub
    from validator.sources.aws.client import check_endpoint_reachable

    findings = securityhub.load(path)
    wrong = securityhub.problems(findings)
    for line in wrong:
        print(f"aurora-validate: {path}: ASFF error: {line}", file=sys.stderr)
    if wrong:
        print(
            f"aurora-validate: {path}: nothing sent: {len(wrong)} of {len(findings)} findings are invalid",
            file=sys.stderr,
        )
        return EXIT_INPUT
    if not findings:
        print(f"{path}: no findings to import")
        return EXIT_OK
    connection = request_from_args(args, dict(os.environ)).connection
    if connection.endpoint_url:  # nothing listening there is an input error, as for the audit
        check_endpoint_reachable(connection.endpoint_url)
    importer = securityhub.Importer(connection)
    grouped = securityhub.groups(findings)
    caller = importer.caller_account(next(iter(grouped))[1])
    code = EXIT_OK
    for (account, region), items in grouped.items():
        if account != caller:
            print(
                f"aurora-validate: {path}: {len(items)} finding(s) of account {account} not imported: the credentials "
                f"are of account {caller}, and Security Hub takes a finding only from the account it names "
                "(import them with that account's credentials)",
                file=sys.stderr,
            )
            code = max(code, EXIT_INPUT)
            continue
        if args.dry_run:
            print(f"{path}: {len(items)} finding(s) valid for Security Hub in {region} (account {account}); not sent")
            continue
        done = importer.send(account, region, items)
        for rejected in done.rejected:
            print(
                f"aurora-validate: {path}: finding {rejected.finding_id} rejected in {region}: "
                f"{rejected.code}: {rejected.message}",
                file=sys.stderr,
            )
        if done.rejected:
            code = max(code, EXIT_AWS)
        print(
            f"imported {done.imported} of {done.sent} finding(s) into Security Hub in {region} "
            f"(account {account}, {done.calls} call(s) of securityhub:BatchImportFindings)"
        )
    return code
