"""Benchmark the live audit: 300 clusters in 3 regions on a local AWS API, audited with --all.

Run: python bench/bench_live.py [--clusters-per-region 100] [--kbs-per-region 34]
                                [--regions us-east-1,eu-west-1,ap-northeast-1] [--faults]

Each region also holds knowledge bases (Aurora storage, one secret each) on some of its
clusters, and one that names a cluster that does not exist. Prints the wall time of the
audit, and the API calls it made (counted with a botocore before-call hook: logical calls,
retries not included) in total, per cluster and per knowledge base.

``--faults`` also runs the audit once per fault the test proxy (tests/fault_proxy.py) can
inject and tabulates, per kind: exit codes, tracebacks, AV503 findings, wall time; and the
time to give up on an endpoint that never answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3

from validator.demo import LocalAws
from validator.engine import evaluate
from validator.sources.aws.audit import LiveRequest, audit
from validator.sources.aws.client import Connection

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def populate(url: str, region: str, count: int, kbs: int = 0) -> None:
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
    if kbs:
        sm = boto3.client("secretsmanager", endpoint_url=url, region_name=region, **CREDENTIALS)
        agent = boto3.client("bedrock-agent", endpoint_url=url, region_name=region, **CREDENTIALS)
        account = "123456789012"
        for i in range(kbs):
            target = f"bench-{region}-{i * max(1, count // kbs):03d}" if i < kbs - 1 else "gone"
            secret = sm.create_secret(Name=f"kb-{i}", SecretString="{}")["ARN"]
            agent.create_knowledge_base(
                name=f"kb-{i}",
                roleArn=f"arn:aws:iam::{account}:role/kb",
                knowledgeBaseConfiguration={
                    "type": "VECTOR",
                    "vectorKnowledgeBaseConfiguration": {
                        "embeddingModelArn": f"arn:aws:bedrock:{region}::foundation-model/amazon.titan-embed-text-v2:0"
                    },
                },
                storageConfiguration={
                    "type": "RDS",
                    "rdsConfiguration": {
                        "resourceArn": f"arn:aws:rds:{region}:{account}:cluster:{target}",
                        "credentialsSecretArn": secret,
                        "databaseName": "postgres",
                        "tableName": "bedrock_integration.bedrock_kb",
                        "fieldMapping": {
                            "primaryKeyField": "id",
                            "vectorField": "embedding",
                            "textField": "chunks",
                            "metadataField": "metadata",
                        },
                    },
                },
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters-per-region", type=int, default=100)
    parser.add_argument("--kbs-per-region", type=int, default=34, help="knowledge bases (the last one stray)")
    parser.add_argument("--faults", action="store_true", help="also audit once per injectable fault")
    parser.add_argument("--regions", default="us-east-1,eu-west-1,ap-northeast-1")
    parser.add_argument("--repeat", type=int, default=3, help="audits to time (the best is reported too)")
    args = parser.parse_args(argv)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]

    with LocalAws() as local:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(regions)) as pool:
            list(pool.map(lambda r: populate(local.url, r, args.clusters_per_region, args.kbs_per_region), regions))
        print(
            f"setup: {len(regions) * args.clusters_per_region} clusters and "
            f"{len(regions) * args.kbs_per_region} knowledge bases in {len(regions)} regions "
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
            clusters = sum(len(d.clusters) for d in result.deployments)
            kbs = sum(len(d.knowledge_bases) for d in result.deployments)
            total = sum(calls.values())
            kb_calls = sum(n for op, n in calls.items() if op.startswith(("bedrock:", "secretsmanager:")))
            kb_calls += max(0, calls["rds:DescribeDBClusters"] - len(regions))  # asking about stray targets
            print(
                f"run {run + 1}: audit {audit_s:.2f} s wall for {clusters} clusters and {kbs} knowledge bases; "
                f"{total} API calls = {(total - kb_calls) / clusters:.3f} per cluster + "
                f"{kb_calls / max(kbs, 1):.3f} per knowledge base; rules {rules_s:.2f} s ({findings} results)"
            )
            if run == 0:
                for operation, n in sorted(calls.items()):
                    print(f"  {operation}: {n}")
        print(f"best audit wall time: {min(times):.2f} s; median {sorted(times)[len(times) // 2]:.2f} s")
        if args.faults:
            fault_matrix(local.url, regions)
    return 0


def fault_matrix(url: str, regions: list[str]) -> None:
    """One --all audit per fault, through the tests' fault proxy; then a dead endpoint."""
    import contextlib
    import io
    import os
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from fault_proxy import Fault, FaultProxy, denied, error

    from validator.cli import main as cli

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS="3")
    ops = [
        "rds:DescribeDBClusters",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSubnetGroups",
        "ec2:DescribeSecurityGroups",
        "rds:DescribeDBEngineVersions",
        "bedrock:ListKnowledgeBases",
        "bedrock:GetKnowledgeBase",
        "secretsmanager:DescribeSecret",
    ]
    kinds: dict[str, list[Fault]] = {
        "Throttling": [error(400, "Throttling", "Rate exceeded", op) for op in ops],
        "RequestLimitExceeded": [error(503, "RequestLimitExceeded", "Request limit exceeded.", op) for op in ops],
        "500": [error(500, "InternalFailure", "boom", op) for op in ops],
        "503 text": [Fault("status", 503, operation=op) for op in ops],
        "AccessDenied/UnauthorizedOperation": [denied(op) for op in ops],
        "EC2 200 AccessDenied": [Fault("ec2-denied-200", operation="ec2:DescribeSecurityGroups")],
        "garbage 200": [Fault("garbage", operation=op) for op in ops],
        "empty 200": [Fault("empty", operation=op) for op in ops],
        "HTML 200": [Fault("html", operation=op) for op in ops],
        "truncated": [Fault("truncated", operation=op) for op in ops],
        "reset": [Fault("reset", operation=op) for op in ops],
        "slow (> read timeout)": [Fault("slow", operation=op, delay=5) for op in ops],
        "one region's listing": [Fault("reset", operation="rds:DescribeDBClusters", region=regions[0])],
    }
    argv = ["--live", "--all", "--format", "json", "--aws-timeout", "6"]
    for region in regions:
        argv += ["--region", region]
    print("faults (one --all audit each; AWS_MAX_ATTEMPTS=3, --aws-timeout 6):")
    total = tracebacks = 0
    for kind, faults in kinds.items():
        codes: Counter[int] = Counter()
        notes = 0
        slowest = 0.0
        for fault in faults:
            out, err = io.StringIO(), io.StringIO()
            with FaultProxy(url) as proxy, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                proxy.add(fault)
                t0 = time.perf_counter()
                code = cli([*argv, "--endpoint-url", proxy.url])
                slowest = max(slowest, time.perf_counter() - t0)
            total += 1
            codes[code] += 1
            text = out.getvalue() + err.getvalue()
            tracebacks += "Traceback" in text or "internal error" in text
            if out.getvalue():
                doc = json.loads(out.getvalue())
                notes += any(f["rule_id"] == "AV503" and f["status"] == "fail" for f in doc["findings"])
            else:
                notes += "rds:DescribeDBClusters" in err.getvalue()  # nothing read: the one-line error
        shown = ", ".join(f"exit {c} x{n}" for c, n in sorted(codes.items()))
        print(f"  {kind}: {len(faults)} runs; {shown}; named in AV503 or the error: {notes}; slowest {slowest:.1f} s")
    print(f"  in all: {total} faulty audits, {tracebacks} tracebacks")
    with FaultProxy("http://127.0.0.1:9") as proxy:
        proxy.add(Fault("hang"))
        err = io.StringIO()
        os.environ["AWS_MAX_ATTEMPTS"] = "6"
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli(["--live", "--all", "--region", regions[0], "--endpoint-url", proxy.url])
        print(
            f"dead endpoint (accepts, never answers; default timeouts, AWS_MAX_ATTEMPTS=6): exit {code} after "
            f"{time.perf_counter() - t0:.1f} s, {proxy.seen.count('rds:DescribeDBClusters')} attempt(s): "
            f"{err.getvalue().strip()}"
        )


if __name__ == "__main__":
    sys.exit(main())
