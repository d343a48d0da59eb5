"""``aurora-validate export checkov DIR``: the rules as policies for other tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TARGETS = ("checkov",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aurora-validate export",
        description="Write the rules that another tool can express as its own policies.",
        epilog="checkov: one YAML custom policy per rule (ids CKV2_AURORA_<n>); run them with "
        "`checkov -d TERRAFORM_DIR --external-checks-dir DIR`. Rules that checkov attribute checks "
        "cannot express are listed with the reason.",
    )
    parser.add_argument("target", choices=TARGETS, help="the tool to write policies for")
    parser.add_argument("directory", metavar="DIR", help="directory to write the policies into (created)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the files written")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from validator.exporters import checkov

    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        print(f"aurora-validate: {directory}: error: exists and is not a directory", file=sys.stderr)
        return 2
    try:
        written = checkov.export(directory)
    except OSError as exc:
        print(f"aurora-validate: {directory}: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for policy, path in zip(checkov.POLICIES, written, strict=True):
        if args.quiet:
            print(path)
            continue
        part = f" ({policy.resource_type}.{policy.suffix})" if policy.suffix else ""
        note = f"; {policy.note}" if policy.note else ""
        print(f"{path}: {policy.rule_id}{part} -> {policy.policy_id}{note}")
    if not args.quiet:
        print("not exported (checkov attribute checks cannot express them):")
        for rule_id, reason in checkov.unexpressible().items():
            print(f"  {rule_id}: {reason}")
        print(f"run: checkov -d TERRAFORM_DIR --external-checks-dir {directory} --framework terraform")
    return 0
