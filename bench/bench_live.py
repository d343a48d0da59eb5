"""Benchmark the live audit: 300 clusters in 3 regions on a local AWS API, audited with --all.

Run: python bench/bench_live.py [--clusters-per-region 100] [--regions us-east-1,eu-west-1,ap-northeast-1]

Prints the wall time of the audit, and the API calls it made (counted with a botocore
before-call hook: logical calls, retries not included) in total and per cluster.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3

from validator.demo import LocalAws
from validator.engine import evaluate
from validator.sources.live import LiveRequest, audit
from validator.sources.live_aws import Connection

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def populate(url: str, region: str, count: int) -> None:
    """A network and ``count`` Serverless v2 clusters with one db.serverless instance each."""
    rds = boto3.client("rds", endpoint_url=url, region_name=region, **CREDENTIALS)
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, **CREDENTIALS)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("ac", start=1)
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=subnets)
    groups = [ec2.create_security_group(GroupName=f"db-{i}", Description="db", VpcId=vpc)["GroupId"] for i in range(10)]
    for i in range(count):
        ident = f"bench-{region}-{i:03d}"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters-per-region", type=int, default=100)
    parser.add_argument("--regions", default="us-east-1,eu-west-1,ap-northeast-1")
    parser.add_argument("--repeat", type=int, default=3, help="audits to time (the best is reported too)")
    args = parser.parse_args(argv)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]

    with LocalAws() as local:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(regions)) as pool:
            list(pool.map(lambda r: populate(local.url, r, args.clusters_per_region), regions))
        print(
            f"setup: {len(regions) * args.clusters_per_region} clusters in {len(regions)} regions "
            f"in {time.perf_counter() - started:.1f} s (local AWS API {local.url})"
        )

        times: list[float] = []
        for run in range(args.repeat):
            calls: Counter[str] = Counter()
            lock = threading.Lock()

            def count(region: str, operation: str, calls: Counter[str] = calls, lock: threading.Lock = lock) -> None:
                with lock:
                    calls[operation] += 1

            connection = Connection(endpoint_url=local.url, static_credentials=("testing", "testing"), on_call=[count])
            t0 = time.perf_counter()
            result = audit(LiveRequest(all=True, regions=regions, connection=connection, progress=False))
            audit_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            findings = sum(len(evaluate(d)) for d in result.deployments)
            rules_s = time.perf_counter() - t1
            times.append(audit_s)
            clusters = len(result.deployments)
            total = sum(calls.values())
            print(
                f"run {run + 1}: audit {audit_s:.2f} s wall for {clusters} clusters; {total} API calls = "
                f"{total / clusters:.3f} per cluster; rules {rules_s:.2f} s ({findings} results)"
            )
            if run == 0:
                for operation, n in sorted(calls.items()):
                    print(f"  {operation}: {n}")
        print(f"best audit wall time: {min(times):.2f} s; median {sorted(times)[len(times) // 2]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
