"""Plan scan: ``aurora-validate --plan plan.json [CONFIG_DIR]``.

The plan is the output of ``terraform show -json PLANFILE``. With the root
module it was made from, findings point at file and line; without it, at the
resource address.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from validator.engine import evaluate
from validator.errors import InputError, UsageError
from validator.findings import Report


def collect(args: argparse.Namespace) -> Report:
    from validator.commands.static import parse_vars
    from validator.rootscan import under_root
    from validator.sources.terraform.plan import load_plan

    paths = list(getattr(args, "paths", []) or [])
    if len(paths) > 1:
        raise UsageError("--plan takes one directory at most: the root module the plan was made from")
    config_dir = Path(paths[0]) if paths else None
    if config_dir is not None and not config_dir.is_dir():
        raise UsageError(f"{config_dir}: with --plan, give the root module directory the plan was made from")
    plan = Path(args.plan)
    try:
        loaded = load_plan(
            plan,
            config_dir,
            var_files=[Path(p) for p in getattr(args, "var_file", []) or []],
            cli_vars=parse_vars(getattr(args, "var", []) or []),
        )
        errors = [under_root(config_dir, e) for e in loaded.errors] if config_dir else list(loaded.errors)
    except InputError as exc:
        if config_dir is None or exc.where == str(plan):
            raise
        # The configuration cannot be read: check the plan alone, findings located by resource address.
        loaded = load_plan(plan)
        errors = [exc]
    deployment = loaded.deployment
    return Report(
        findings=evaluate(deployment, args.rules_profile),
        errors=errors,
        roots=[deployment.root],
        profile=args.rules_profile,
        deployments=[deployment],
    )
