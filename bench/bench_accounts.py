"""Benchmark live audits of many accounts: an organization on a local AWS API (moto), audited by role.

Run: python bench/bench_accounts.py [--accounts 50] [--regions us-east-1,eu-west-1,ap-northeast-1]
                                    [--clusters-per-region 20] [--steps 1,10,25,50] [--jobs 8]

Sets up an organization of ``--accounts`` accounts (the management account and its members, created
with organizations:CreateAccount), and in every account and region a network and
``--clusters-per-region`` Serverless v2 clusters with one instance each, written through a role
assumed in that account (moto keys its state by the account of the credentials). Then, for each
step N, audits the first N accounts (``--accounts`` ids, a role assumed in each, every region, the
knowledge bases too) in a fresh process and prints: wall time, API calls (counted with the audit's
before-call hook: logical calls, retries not included) in all and per cluster, and the process's
peak resident memory, with its growth over the same process before the audit. The last row is
an ``--organization`` audit (organizations:ListAccounts first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ROLE = "aurora-validate-audit"
MANAGEMENT = "123456789012"  # moto's default account: the caller's own keys
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _client(service: str, url: str, region: str, creds: dict[str, str]) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=region, **creds)


def _credentials(url: str, account: str) -> dict[str, str]:
    if account == MANAGEMENT:
        return dict(KEYS)
    sts = _client("sts", url, "us-east-1", KEYS)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def populate(url: str, account: str, region: str, count: int) -> None:
    """A network and ``count`` Serverless v2 clusters with one db.serverless instance each."""
    creds = _credentials(url, account)
    rds, ec2 = _client("rds", url, region, creds), _client("ec2", url, region, creds)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("ac", start=1)
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=subnets)
    groups = [ec2.create_security_group(GroupName=f"db-{i}", Description="db", VpcId=vpc)["GroupId"] for i in range(4)]
    for i in range(count):
        ident = f"bench-{i:03d}"
        rds.create_db_cluster(
            DBClusterIdentifier=ident,
            Engine="aurora-postgresql",
            EngineVersion=("16.6", "15.4", "14.12")[i % 3],
            MasterUsername="dbadmin",
            ManageMasterUserPassword=True,
            ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 8},
            EnableIAMDatabaseAuthentication=bool(i % 2),
            DBSubnetGroupName="db",
            VpcSecurityGroupIds=[groups[i % len(groups)]],
        )
        rds.create_db_instance(
            DBInstanceIdentifier=f"{ident}-1",
            DBClusterIdentifier=ident,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )


def organization(url: str, accounts: int) -> list[str]:
    """The management account and ``accounts - 1`` members, as ListAccounts lists them."""
    orgs = _client("organizations", url, "us-east-1", KEYS)
    orgs.create_organization(FeatureSet="ALL")
    for i in range(accounts - 1):
        orgs.create_account(Email=f"member-{i}@example.com", AccountName=f"member-{i}")
    ids = [a["Id"] for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    return [MANAGEMENT] + [a for a in ids if a != MANAGEMENT]


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> float:
    """Reset the peak resident size to the current one (Linux: clear_refs 5); the current size, MB."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """The peak resident size since ``_reset_peak``, MB."""
    return _status_mb("VmHWM")


def child(url: str, accounts: list[str], regions: list[str], jobs: int | None, whole_org: bool) -> dict[str, Any]:
    """One audit in this (fresh) process: time, calls, memory."""
    from validator.engine import evaluate
    from validator.sources.aws.accounts import AccountRequest, audit_accounts
    from validator.sources.aws.audit import LiveRequest
    from validator.sources.aws.client import Clients, Connection

    Clients(Connection())  # boto3 and botocore loaded before the baseline
    before_mb = _reset_peak()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def count(region: str, operation: str) -> None:
        with lock:
            calls[operation] += 1

    connection = Connection(endpoint_url=url, static_credentials=("testing", "testing"), on_call=[count])
    spec = AccountRequest(ids=[] if whole_org else accounts, organization=whole_org, role_name=ROLE)
    started = time.perf_counter()
    result = audit_accounts(
        LiveRequest(all=True, regions=regions, connection=connection, progress=False, jobs=jobs), spec
    )
    audit_s = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = _peak_mb()
    findings = sum(len(evaluate(d)) for d in result.deployments)
    clusters = sum(len(d.clusters) for d in result.deployments)
    return {
        "accounts": len(result.accounts),
        "clusters": clusters,
        "wall_s": audit_s,
        "calls": sum(calls.values()),
        "by_operation": dict(sorted(calls.items())),
        "findings": findings,
        "unread": sum(1 for d in result.deployments if d.refused_calls and not d.clusters),
        "cpu_s": used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
        "peak_mb": peak_mb,
        "growth_mb": peak_mb - before_mb,
    }


def _run_child(url: str, accounts: list[str], regions: list[str], jobs: int | None, whole_org: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", url, "--regions", ",".join(regions), "--ids", ",".join(accounts)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if whole_org:
        cmd.append("--organization")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ)).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", default="us-east-1,eu-west-1,ap-northeast-1")
    parser.add_argument("--clusters-per-region", type=int, default=20)
    parser.add_argument("--steps", default="1,10,25,50", help="accounts audited per row")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs of the audit (default: the audit's own)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--ids", default="", help=argparse.SUPPRESS)
    parser.add_argument("--organization", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    if args.child:
        ids = [a for a in args.ids.split(",") if a]
        print(json.dumps(child(args.child, ids, regions, args.jobs, args.organization)))
        return 0

    from validator.demo import LocalAws

    steps = sorted({min(int(s), args.accounts) for s in args.steps.split(",") if s.strip()})
    with LocalAws() as local:
        started = time.perf_counter()
        accounts = organization(local.url, args.accounts)
        with ThreadPoolExecutor(max_workers=4) as pool:
            work = [(a, r) for a in accounts for r in regions]
            list(pool.map(lambda ar: populate(local.url, ar[0], ar[1], args.clusters_per_region), work))
        total = len(accounts) * len(regions) * args.clusters_per_region
        print(
            f"setup: {len(accounts)} accounts x {len(regions)} regions x {args.clusters_per_region} clusters "
            f"= {total} clusters in {time.perf_counter() - started:.0f} s (local AWS API {local.url})"
        )
        started = time.perf_counter()
        _run_child(local.url, accounts, regions, args.jobs, False)  # moto creates its backends lazily
        print(f"warm-up audit of every account (unmeasured): {time.perf_counter() - started:.0f} s")
        print(f"{'accounts':>8} {'clusters':>8} {'wall s':>7} {'s/account':>9} {'CPU s':>6} {'calls':>6} "
              f"{'calls/cluster':>13} {'peak MB':>8} {'growth MB':>9}")
        rows: list[tuple[str, dict[str, Any]]] = []
        for n in steps:
            rows.append((str(n), _run_child(local.url, accounts[:n], regions, args.jobs, False)))
        rows.append((f"org {len(accounts)}", _run_child(local.url, [], regions, args.jobs, True)))
        for label, row in rows:
            print(
                f"{label:>8} {row['clusters']:>8} {row['wall_s']:>7.2f} {row['wall_s'] / row['accounts']:>9.3f} "
                f"{row['cpu_s']:>6.2f} {row['calls']:>6} {row['calls'] / max(row['clusters'], 1):>13.3f} "
                f"{row['peak_mb']:>8.1f} {row['growth_mb']:>9.1f}"
                + (f"  ({row['unread']} unread)" if row["unread"] else "")
            )
        print("calls of the largest audit by operation:")
        for operation, n in rows[-1][1]["by_operation"].items():
            print(f"  {operation}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
