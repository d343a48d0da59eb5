"""Plan scan: ``aurora-validate --plan plan.json [CONFIG_DIR]``.

The plan is the output of ``terraform show -json PLANFILE``. With the root
module it was made from, findings point at file and line; without it, at the
resource address.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from validator.engine import Report, evaluate
from validator.errors import UsageError


def collect(args: argparse.Namespace) -> Report:
    from validator.commands.static import parse_vars
    from validator.sources.plan import load_plan

    paths = list(getattr(args, "paths", []) or [])
    if len(paths) > 1:
        raise UsageError("--plan takes one directory at most: the root module the plan was made from")
    config_dir = Path(paths[0]) if paths else None
    if config_dir is not None and not config_dir.is_dir():
        raise UsageError(f"{config_dir}: with --plan, give the root module directory the plan was made from")
    loaded = load_plan(
        Path(args.plan),
        config_dir,
        var_files=[Path(p) for p in getattr(args, "var_file", []) or []],
        cli_vars=parse_vars(getattr(args, "var", []) or []),
    )
    deployment = loaded.deployment
    return Report(
        findings=evaluate(deployment, args.rules_profile),
        errors=list(loaded.errors),
        roots=[deployment.root],
        profile=args.rules_profile,
        deployments=[deployment],
    )
