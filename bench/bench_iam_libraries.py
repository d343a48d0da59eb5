"""Measure the IAM policy libraries considered for AV204 against our own evaluator.

Run it with an interpreter that has them installed (never the project's environment):

    python3 -m venv /tmp/iamlibs && /tmp/iamlibs/bin/pip install policyuniverse parliament policy-sentry
    /tmp/iamlibs/bin/python bench/bench_iam_libraries.py

For each library: the import time (a fresh interpreter, best of three) and its answer to
"does this policy allow ACTION on RESOURCE" for the constructs AV204 must read. A library
that has no such question, or raises, is reported as such.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CLUSTER = "arn:aws:rds:us-east-1:111122223333:cluster:kb"
CASES = [  # (name, policy, action, resource, expected allowed)
    ("wildcard action", {"Effect": "Allow", "Action": "rds-data:*", "Resource": CLUSTER},
     "rds-data:ExecuteStatement", CLUSTER, True),
    ("wildcard resource", {"Effect": "Allow", "Action": "rds:DescribeDBClusters",
                           "Resource": "arn:aws:rds:*:*:cluster:*"}, "rds:DescribeDBClusters", CLUSTER, True),
    ("other resource", {"Effect": "Allow", "Action": "rds-data:ExecuteStatement",
                        "Resource": "arn:aws:rds:*:*:cluster:other"}, "rds-data:ExecuteStatement", CLUSTER, False),
    ("NotAction", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
     "rds-data:ExecuteStatement", CLUSTER, True),
    ("NotResource", {"Effect": "Allow", "Action": "rds-data:ExecuteStatement",
                     "NotResource": "arn:aws:rds:*:*:cluster:kb"}, "rds-data:ExecuteStatement", CLUSTER, False),
    ("explicit Deny", [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Action": "rds-data:*", "Resource": CLUSTER}],
     "rds-data:ExecuteStatement", CLUSTER, False),
    ("Deny with a condition", [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                               {"Effect": "Deny", "Action": "rds-data:*", "Resource": "*",
                                "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}],
     "rds-data:ExecuteStatement", CLUSTER, None),  # cannot be told statically
]


def import_time(module: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - start)
    base = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base = min(base, time.perf_counter() - start)
    return best - base


def doc(statements: object) -> dict:
    return {"Version": "2012-10-17", "Statement": statements if isinstance(statements, list) else [statements]}


def parliament_answer(policy: dict, action: str, resource: str) -> object:
    from parliament import analyze_policy_string

    p = analyze_policy_string(json.dumps(policy))
    prefix, name = action.split(":")
    allowed = p.get_allowed_resources(prefix, name)
    return any(r == "*" or r == resource for r in allowed)


def policyuniverse_answer(policy: dict, action: str, resource: str) -> object:
    from policyuniverse.policy import Policy

    p = Policy(policy)
    summary = p.action_summary()  # {service: {access level}}: no resource, no action-level answer
    return f"no action/resource question (action_summary names {len(summary)} services)"


def policy_sentry_answer(policy: dict, action: str, resource: str) -> object:
    from policy_sentry.analysis.expand import get_expanded_policy

    expanded = get_expanded_policy(policy)  # expands wildcards; no evaluation
    return f"no evaluation (expands actions only: {len(json.dumps(expanded))} bytes)"


def ours(policy: dict, action: str, resource: str) -> object:
    sys.path.insert(0, ".")
    from validator.iam import Decision, Target, evaluate, parse_document

    verdict = evaluate([parse_document(policy, "policy")], action, Target("the cluster", arn=resource))
    return {Decision.ALLOW: True, Decision.UNKNOWN: None}.get(verdict.decision, False)


def main() -> None:
    answerers = {"parliament": parliament_answer, "policyuniverse": policyuniverse_answer,
                 "policy_sentry": policy_sentry_answer, "validator.iam": ours}
    for module in ("policyuniverse", "parliament", "policy_sentry", "validator.iam"):
        try:
            print(f"{module}: import {import_time(module) * 1000:.0f} ms")
        except subprocess.CalledProcessError:
            print(f"{module}: not importable here")
    for name, statements, action, resource, expected in CASES:
        row = [f"{name:24} expected {expected!s:5}"]
        for lib, answer in answerers.items():
            try:
                got = answer(doc(statements), action, resource)
            except Exception as exc:  # a library failing is what we measure
                got = f"raises {type(exc).__name__}: {exc}"
            mark = "ok" if got == expected else "WRONG" if isinstance(got, bool | None) else "-"
            row.append(f"{lib}={got!r} [{mark}]")
        print(" | ".join(row))


if __name__ == "__main__":
    main()
