"""Run Terraform on temporary copies of the reference configurations, offline.

The AWS provider comes from a local filesystem mirror (a directory named
``registry.terraform.io``), found once per process by searching the file
system the way ``find / -maxdepth 4 -name registry.terraform.io`` does.
``terraform init -plugin-dir`` links the provider from the mirror into each
working copy, so an init takes well under a second and needs no cache.

Every command runs with :func:`offline_env`: fake AWS credentials, no shared
AWS config, and an unreachable HTTP(S) proxy for everything but loopback, so
nothing can reach a real AWS endpoint. Overrides (``zz_*.tf``) are only ever
written into the working copy, never into ``reference/``.

Typical use::

    work = copy_module(REFERENCE / "terraform", tmp_path / "tf")
    init(work)
    plan = plan_json(work)                      # offline plan, as a dict

Deploying into a local AWS API (moto) is ``validator.sources.terraform.runner.apply``,
which the demo and the live end-to-end tests share.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from validator.sources.terraform import runner as terraform_runner

MIRROR_NAME = terraform_runner.MIRROR_NAME
SEARCH_DEPTH = terraform_runner.SEARCH_DEPTH
OFFLINE_OVERRIDE = "zz_offline_override.tf"
PROVIDER_OVERRIDE = "zz_provider_override.tf"
EXTRA_VARS_FILE = "zz_extra_vars.tfvars.json"
PLAN_FILE = "tfplan"
FAKE_REGION = "ap-northeast-1"
# Discard port on loopback: a proxied (non-loopback) request fails at once.
DEAD_PROXY = "http://127.0.0.1:9"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


_SKIP_FLAGS = {
    "skip_credentials_validation": True,
    "skip_metadata_api_check": True,
    "skip_region_validation": True,
}

_COPY_IGNORE = shutil.ignore_patterns(
    ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", PLAN_FILE, "zz_*"
)


class TerraformError(RuntimeError):
    """A terraform command that exited non-zero; ``output`` holds stdout and stderr."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args_run = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.output = f"{stdout}\n{stderr}"
        super().__init__(f"terraform {' '.join(args[1:])} exited {returncode}: {_first_error(stderr)}")


def _first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.strip().startswith("Error:"):
            return line.strip()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else "no error output"


# --------------------------------------------------------------------------- #
# Discovery


def plugin_dir() -> Path | None:
    """The directory to pass to ``terraform init -plugin-dir``, or None (shared with the demo)."""
    return terraform_runner.plugin_dir()


@lru_cache(maxsize=1)
def terraform_binary() -> str | None:
    return shutil.which("terraform")


def terraform_available() -> bool:
    """True when both the terraform binary and the provider mirror exist."""
    return terraform_binary() is not None and plugin_dir() is not None


def skip_reason() -> str:
    """Why Terraform tests cannot run here (empty when they can)."""
    missing = []
    if terraform_binary() is None:
        missing.append("no terraform binary on PATH")
    if plugin_dir() is None:
        missing.append(
            f"no AWS provider mirror ({MIRROR_NAME}/hashicorp/aws) within {SEARCH_DEPTH} levels of /"
        )
    return "; ".join(missing)


# --------------------------------------------------------------------------- #
# Working copies and environment


def copy_module(src: Path | str, dst: Path | str) -> Path:
    """Copy a configuration tree to ``dst`` without Terraform's working files."""
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a directory")
    shutil.copytree(src, dst, ignore=_COPY_IGNORE, dirs_exist_ok=True)
    return dst


def offline_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform: fake credentials, no AWS config, no route off loopback."""
    keep_aws = {"AWS_CA_BUNDLE"}
    drop_tf = ("TF_VAR_", "TF_CLI_ARGS", "TF_DATA_DIR", "TF_WORKSPACE", "TF_PLUGIN_CACHE_DIR")
    env = {
        key: value
        for key, value in os.environ.items()
        if not (key.startswith("AWS_") and key not in keep_aws)
        and not key.startswith(drop_tf)
        and key.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": FAKE_REGION,
            "AWS_DEFAULT_REGION": FAKE_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_CLI_CONFIG_FILE": os.devnull,
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "http_proxy": DEAD_PROXY,
            "https_proxy": DEAD_PROXY,
            "NO_PROXY": ",".join(LOOPBACK_HOSTS),
            "no_proxy": ",".join(LOOPBACK_HOSTS),
        }
    )
    if extra:
        env.update(extra)
    return env


def run(
    workdir: Path | str, *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``terraform <args>`` in ``workdir`` with :func:`offline_env`."""
    binary = terraform_binary()
    if binary is None:
        raise RuntimeError(skip_reason())
    cmd = [binary, *args]
    proc = subprocess.run(
        cmd,
        cwd=workdir,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise TerraformError(cmd, proc.returncode, proc.stdout, proc.stderr)
    return proc


# --------------------------------------------------------------------------- #
# Overrides (written only into working copies)


def _hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _provider_block(settings: Mapping[str, Any]) -> str:
    width = max(len(key) for key in settings)
    lines = ['provider "aws" {']
    lines += [f"  {key.ljust(width)} = {_hcl(value)}" for key, value in settings.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_offline_override(workdir: Path | str) -> Path:
    """Write ``zz_offline_override.tf``: the provider skips every credential, account and
    metadata lookup, which is enough for ``plan``."""
    settings: dict[str, Any] = {**_SKIP_FLAGS, "skip_requesting_account_id": True}
    path = Path(workdir) / OFFLINE_OVERRIDE
    path.write_text(
        "# Written by tests/tfsupport.py into a temporary copy; merged into the\n"
        "# configuration's provider block by Terraform's override-file rules.\n"
        + _provider_block(settings),
        encoding="utf-8",
    )
    return path


def relax_provider_constraint(workdir: Path | str, constraint: str = ">= 4.0") -> Path:
    """Replace the aws provider's version constraint in a working copy.

    Terraform merges ``required_providers`` from an override file entry by
    entry, so the configuration's own files stay byte-for-byte untouched. The
    as-published article pins ``~> 4.0``, which the 5.x mirror cannot satisfy.
    """
    path = Path(workdir) / PROVIDER_OVERRIDE
    path.write_text(
        "# Written by tests/tfsupport.py: the local mirror holds only AWS provider 5.x.\n"
        "terraform {\n"
        "  required_providers {\n"
        "    aws = {\n"
        '      source  = "hashicorp/aws"\n'
        f"      version = {json.dumps(constraint)}\n"
        "    }\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    return path


def _var_args(workdir: Path, extra_vars: Mapping[str, Any] | None) -> list[str]:
    path = workdir / EXTRA_VARS_FILE
    if not extra_vars:
        path.unlink(missing_ok=True)
        return []
    path.write_text(json.dumps(dict(extra_vars), indent=2), encoding="utf-8")
    return [f"-var-file={EXTRA_VARS_FILE}"]


# --------------------------------------------------------------------------- #
# Commands


def init(workdir: Path | str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``terraform init`` from the local provider mirror (no registry access)."""
    mirror = plugin_dir()
    if mirror is None:
        raise RuntimeError(skip_reason())
    return run(workdir, "init", "-input=false", "-no-color", f"-plugin-dir={mirror}", timeout=timeout)


def _ensure_init(workdir: Path) -> None:
    if not (workdir / ".terraform" / "providers").is_dir():
        init(workdir)


def validate(workdir: Path | str) -> dict[str, Any]:
    """``terraform validate -json``; raises TerraformError unless the result is valid."""
    workdir = Path(workdir)
    _ensure_init(workdir)
    proc = run(workdir, "validate", "-json", "-no-color", check=False)
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise TerraformError(["terraform", "validate"], proc.returncode, proc.stdout, proc.stderr) from None
    if not result.get("valid"):
        messages = "; ".join(d.get("summary", "") for d in result.get("diagnostics", []))
        raise TerraformError(["terraform", "validate"], proc.returncode, proc.stdout, messages)
    return result


def plan_json(
    workdir: Path | str, extra_vars: Mapping[str, Any] | None = None, timeout: float = 300
) -> dict[str, Any]:
    """Plan offline and return ``terraform show -json`` of the saved plan."""
    workdir = Path(workdir)
    write_offline_override(workdir)
    _ensure_init(workdir)
    var_args = _var_args(workdir, extra_vars)
    run(
        workdir,
        "plan",
        "-input=false",
        "-no-color",
        "-lock=false",
        f"-out={PLAN_FILE}",
        *var_args,
        timeout=timeout,
    )
    shown = run(workdir, "show", "-json", "-no-color", PLAN_FILE, timeout=timeout)
    return json.loads(shown.stdout)


# --------------------------------------------------------------------------- #
# Reading plan and state documents


def resources(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All resources of a plan (``planned_values``) or state (``values``), modules included."""
    values = document.get("planned_values") or document.get("values") or {}
    found: list[dict[str, Any]] = []
    pending = [values.get("root_module", {})]
    while pending:
        module = pending.pop()
        found.extend(module.get("resources", []))
        pending.extend(module.get("child_modules", []))
    return sorted(found, key=lambda r: r["address"])


def resources_of_type(document: Mapping[str, Any], type_name: str) -> list[dict[str, Any]]:
    return [r for r in resources(document) if r.get("type") == type_name]


def outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    """Root outputs of a state document as ``{name: value}``."""
    raw = (state.get("values") or {}).get("outputs", {})
    return {name: entry.get("value") for name, entry in raw.items()}
