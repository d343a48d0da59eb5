"""``aurora-validate --live``: audit deployed clusters, optionally against their Terraform (drift)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from validator import facts
from validator.engine import evaluate
from validator.errors import InputError, UsageError
from validator.findings import Report
from validator.model import Deployment
from validator.sources.aws.accounts import DEFAULT_SESSION_NAME, AccountRequest
from validator.sources.aws.audit import LiveRequest
from validator.sources.aws.client import DEFAULT_CONNECT_TIMEOUT, Connection, localstack_endpoint, retry_settings
from validator.sources.aws.source import load_live


def request_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> LiveRequest:
    """The live request the command-line options describe."""
    env = os.environ if environ is None else environ
    endpoint = getattr(args, "endpoint_url", None)
    default_credentials = None
    if getattr(args, "localstack", False):
        if endpoint:
            raise UsageError("--localstack and --endpoint-url exclude each other")
        endpoint = localstack_endpoint(dict(env))
        default_credentials = ("test", "test")  # LocalStack accepts any credentials
    # Without --endpoint-url, boto3 itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.
    mode, attempts = retry_settings(dict(env))
    budget = getattr(args, "aws_timeout", None)
    timing: dict[str, Any] = {}  # Connection keyword arguments, all floats
    if budget is not None:
        if not 0 < budget <= 3600:
            raise UsageError(f"--aws-timeout must be between 0 and 3600 seconds, not {budget:g}")
        timing = {
            "call_budget": budget,
            "read_timeout": budget / 2,
            "connect_timeout": min(DEFAULT_CONNECT_TIMEOUT, budget / 2),
        }
    return LiveRequest(
        clusters=list(getattr(args, "cluster", None) or []),
        all=bool(getattr(args, "all", False)),
        regions=list(getattr(args, "region", None) or []),
        jobs=getattr(args, "jobs", None),
        accounts=accounts_from_args(args),
        connection=Connection(
            aws_profile=getattr(args, "aws_profile", None),
            endpoint_url=endpoint,
            max_attempts=attempts,
            retry_mode=mode,
            default_credentials=default_credentials,
            **timing,
        ),
    )


ACCOUNT_OPTIONS = (
    "accounts", "organization", "role_name", "role_arn", "external_id", "role_session_name", "role_duration"
)


def accounts_from_args(args: argparse.Namespace) -> AccountRequest | None:
    """The accounts to audit and the role to assume in each; None: the credentials' own account."""
    given = [name for name in ACCOUNT_OPTIONS if getattr(args, name, None) not in (None, False, [])]
    if not given:
        return None
    ids = [part.strip() for value in getattr(args, "accounts", None) or [] for part in value.split(",") if part.strip()]
    duration = getattr(args, "role_duration", None)
    return AccountRequest(
        ids=ids,
        organization=bool(getattr(args, "organization", False)),
        role_name=getattr(args, "role_name", None),
        role_arn=getattr(args, "role_arn", None),
        external_id=getattr(args, "external_id", None),
        session_name=getattr(args, "role_session_name", None) or DEFAULT_SESSION_NAME,
        duration=facts.ASSUME_ROLE_DURATION_DEFAULT if duration is None else duration,
    )


def _declared_deployments(args: argparse.Namespace, report: Report) -> list[Deployment]:
    """The Terraform deployments to compare with (``--live PATH ...``)."""
    from validator.commands.static import parse_vars
    from validator.rootscan import under_root
    from validator.sources.terraform.hcl import load_root
    from validator.sources.terraform.roots import resolve_roots

    cli_vars = parse_vars(list(getattr(args, "var", None) or []))
    var_files = [Path(p) for p in getattr(args, "var_file", None) or []]
    roots, errors = resolve_roots(list(args.paths))
    report.errors.extend(errors)
    out: list[Deployment] = []
    for root in roots:
        try:
            loaded = load_root(root, var_files=var_files, cli_vars=cli_vars, env=os.environ)
        except InputError as exc:
            report.errors.append(exc)
            continue
        report.errors.extend(under_root(root, e) for e in loaded.errors)
        out.append(loaded.deployment)
    return out


def pick_declared(live: Deployment, declared: list[Deployment]) -> Deployment | None:
    """The Terraform deployment holding a cluster with the live identifier, else the only one."""
    ident = live.clusters[0].identifier.get() if live.clusters else None
    for dep in declared:
        if any(c.identifier.known and c.identifier.value == ident for c in dep.clusters):
            return dep
    return declared[0] if len(declared) == 1 else None


def collect(args: argparse.Namespace) -> Report:
    """Read the clusters, evaluate every rule that applies to live deployments, report drift."""
    profile = getattr(args, "rules_profile", None) or "default"
    request = request_from_args(args)
    report = Report(profile=profile)
    declared = _declared_deployments(args, report) if getattr(args, "paths", None) else []
    result = load_live(request)
    for dep in result.deployments:
        if declared and dep.clusters:
            dep.declared = pick_declared(dep, declared)
        report.deployments.append(dep)
        report.roots.append(dep.root)
        report.findings.extend(evaluate(dep, profile))
    report.denied = sorted({r.operation for r in result.refused if r.denied})
    report.failed_calls = sorted({r.operation for r in result.refused if not r.denied})
    report.errors.extend(result.errors)
    report.accounts = result.accounts or sorted({d.account for d in result.deployments if d.account})
    return report
