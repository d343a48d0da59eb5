"""Deploy a Terraform configuration into a local AWS API (moto, LocalStack) with real terraform.

Used by ``aurora-validate demo``. Everything runs in a temporary copy: the
provider is taken from a local filesystem mirror (a ``registry.terraform.io``
directory, found by searching four levels below /), and an override file sends
every AWS service the configurations use to the local endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

MIRROR_NAME = "registry.terraform.io"
SEARCH_DEPTH = 4
OVERRIDE_FILE = "zz_local_endpoint_override.tf"
# Every service endpoint the reference configurations can reach.
SERVICES = ("bedrock", "bedrockagent", "ec2", "iam", "kms", "logs", "rds", "s3", "secretsmanager", "sts")
DEAD_PROXY = "http://127.0.0.1:9"  # anything not sent to loopback fails at once
_IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "zz_*")


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero; the message is its first error line."""


def _walk(root: Path, depth: int) -> Iterator[Path]:
    if depth <= 0:
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        path = Path(entry.path)
        if entry.name == MIRROR_NAME:
            yield path
        elif str(path) not in ("/proc", "/sys", "/dev"):
            yield from _walk(path, depth - 1)


@lru_cache(maxsize=1)
def plugin_dir() -> Path | None:
    """The parent of a provider mirror holding hashicorp/aws, or None."""
    for mirror in sorted(_walk(Path("/"), SEARCH_DEPTH)):
        if ".terraform" in mirror.parts:
            continue
        if any((mirror / "hashicorp" / "aws").glob("*/*/terraform-provider-aws*")):
            return mirror.parent
    return None


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def missing_reason() -> str:
    """Why a local deployment cannot run here ("" when it can)."""
    if terraform_binary() is None:
        return "terraform is not installed (it deploys the reference configuration into the local AWS API)"
    if plugin_dir() is None:
        return f"no local AWS provider mirror ({MIRROR_NAME}/hashicorp/aws within {SEARCH_DEPTH} levels of /)"
    return ""


def environment(region: str) -> dict[str, str]:
    """Fake credentials, no AWS configuration files, no route off loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_VAR_", "TF_CLI_ARGS", "TF_DATA_DIR", "TF_WORKSPACE"))
        and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_CLI_CONFIG_FILE": os.devnull,
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost,::1",
        }
    )
    return env


def copy_configuration(src: Path, dst: Path) -> Path:
    """Copy a configuration without Terraform's working files."""
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a directory")
    shutil.copytree(src, dst, ignore=_IGNORE, dirs_exist_ok=True)
    return dst


def write_endpoint_override(workdir: Path, endpoint_url: str) -> Path:
    """An override file (merged into the provider block) sending every service to ``endpoint_url``."""
    url = json.dumps(endpoint_url)
    lines = [
        "# Written into a temporary copy: every AWS call goes to the local endpoint.",
        'provider "aws" {',
        '  access_key                  = "testing"',
        '  secret_key                  = "testing"',
        "  skip_credentials_validation = true",
        "  skip_metadata_api_check     = true",
        "  skip_region_validation      = true",
        "  skip_requesting_account_id  = false",
        "  s3_use_path_style           = true",
        "  endpoints {",
        *[f"    {service.ljust(14)} = {url}" for service in SERVICES],
        "  }",
        "}",
    ]
    path = workdir / OVERRIDE_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(workdir: Path, region: str, *args: str, timeout: float) -> str:
    binary = terraform_binary()
    if binary is None:
        raise TerraformFailed(missing_reason())
    try:
        proc = subprocess.run(
            [binary, *args],
            cwd=workdir,
            env=environment(region),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TerraformFailed(f"terraform {args[0]} did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        errors = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        first = next(
            (e for e in errors if e.startswith("Error:")), errors[0] if errors else "no error output"
        )
        raise TerraformFailed(f"terraform {args[0]} failed: {first}")
    return proc.stdout


def apply(workdir: Path, endpoint_url: str, region: str, timeout: float = 900) -> dict[str, Any]:
    """init (from the mirror) and apply ``workdir`` against ``endpoint_url``; return the state as JSON."""
    mirror = plugin_dir()
    if mirror is None:
        raise TerraformFailed(missing_reason())
    write_endpoint_override(workdir, endpoint_url)
    _run(workdir, region, "init", "-input=false", "-no-color", f"-plugin-dir={mirror}", timeout=300)
    _run(
        workdir, region, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false", timeout=timeout
    )
    state: dict[str, Any] = json.loads(_run(workdir, region, "show", "-json", "-no-color", timeout=300))
    return state


def state_resources(state: dict[str, Any], type_name: str) -> list[dict[str, Any]]:
    """Resources of one type in a ``terraform show -json`` state, modules included."""
    pending = [(state.get("values") or {}).get("root_module", {})]
    found: list[dict[str, Any]] = []
    while pending:
        module = pending.pop()
        found.extend(r for r in module.get("resources", []) if r.get("type") == type_name)
        pending.extend(module.get("child_modules", []))
    return sorted(found, key=lambda r: r["address"])
