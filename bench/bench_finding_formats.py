"""Benchmark the ASFF and OCSF reporters on a large report built by hand.

Run: python bench/bench_finding_formats.py [--findings 10000]

The report holds live findings (ARNs in 3 regions) and static ones (Terraform addresses
in 50 roots), every status, one in ten suppressed. Prints the time to render each format,
the size of the output, and the time botocore's parameter validator takes on the ASFF
findings (what ``export securityhub`` checks before it sends anything).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from validator.findings import Finding, Report
from validator.model import Location
from validator.reporters import asff, ocsf
from validator.rules import Result, Status, all_rules


def report_of(size: int) -> Report:
    rules = all_rules()
    statuses = list(Status)
    regions = ("us-east-1", "eu-west-1", "ap-northeast-1")
    findings: list[Finding] = []
    for n in range(size):
        rule = rules[n % len(rules)]
        status = statuses[n % len(statuses)]
        if n % 2:
            arn = f"arn:aws:rds:{regions[n % 3]}:123456789012:cluster:kb-{n % 500}"
            where = Location(api_call="rds:DescribeDBClusters", arn=arn)
            result = Result(status, f"finding {n} of {rule.id}", arn, where)
            f = Finding(rule, rule.severity, result, arn)
        else:
            address = f"module.db{n % 7}.aws_rds_cluster.this"
            result = Result(status, f"finding {n} of {rule.id}", address, Location(file="main.tf", line=n % 400 + 1))
            f = Finding(rule, rule.severity, result, f"roots/r{n % 50}")
        if n % 10 == 0:
            f = dataclasses.replace(f, suppressed_by="baseline")
        findings.append(f)
    return Report(findings=findings, roots=sorted({f.root for f in findings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    args = parser.parse_args()
    report = report_of(args.findings)
    env = {"AWS_ACCOUNT_ID": "123456789012", "AWS_REGION": "us-east-1"}
    rows = []
    for name, build in (("asff", asff.findings), ("ocsf", ocsf.events)):
        start = time.perf_counter()
        docs = build(report, show_passed=True, environ=env)
        text = json.dumps(docs, indent=2, ensure_ascii=False)
        rows.append((name, len(docs), time.perf_counter() - start, len(text)))
    from validator.exporters import securityhub

    findings = asff.findings(report, show_passed=True, environ=env)
    start = time.perf_counter()
    problems = securityhub.problems(findings)
    checked = time.perf_counter() - start
    print(f"{'format':6} {'findings':>9} {'render s':>9} {'per finding ms':>15} {'MiB':>7}")
    for name, count, seconds, size in rows:
        print(f"{name:6} {count:9d} {seconds:9.2f} {seconds / count * 1000:15.3f} {size / 2**20:7.1f}")
    print(f"botocore validation of {len(findings)} ASFF findings: {checked:.2f} s ({len(problems)} problems)")


if __name__ == "__main__":
    main()
