"""The Terraform sources as registered (``validator.sources``): HCL root modules and plan JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from validator.sources import Loaded

if TYPE_CHECKING:
    from validator.sources.terraform.hcl.module import ParsedFiles


@dataclass(frozen=True)
class HclRequest:
    """One root module and the inputs terraform would give it."""

    root: Path
    var_files: tuple[Path, ...] = ()
    cli_vars: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] | None = None  # None: this process's environment (TF_VAR_*)
    files: ParsedFiles | None = None  # the parse cache and file reader shared by a run


@dataclass(frozen=True)
class PlanRequest:
    """A ``terraform show -json`` document, and the root module it was made from when given."""

    plan: Path
    config_dir: Path | None = None
    var_files: tuple[Path, ...] = ()
    cli_vars: Mapping[str, str] = field(default_factory=dict)


def load_hcl(request: HclRequest) -> Loaded:
    from validator.sources.terraform.hcl import load_root

    loaded = load_root(
        request.root,
        var_files=request.var_files,
        cli_vars=request.cli_vars,
        env=os.environ if request.env is None else request.env,
        files=request.files,
    )
    return Loaded([loaded.deployment], list(loaded.errors))


def load_plan(request: PlanRequest) -> Loaded:
    from validator.sources.terraform.plan import load_plan as read

    loaded = read(request.plan, request.config_dir, var_files=request.var_files, cli_vars=request.cli_vars)
    return Loaded([loaded.deployment], list(loaded.errors))
