"""Project configuration: ``[tool.aurora-validate]`` in pyproject.toml or ``.aurora-validate.toml``.

Looked up beside the first path given (and its parents up to the current
directory). Command-line options win over the file.

    [tool.aurora-validate]
    profile = "bedrock-kb"
    fail-on = "warning"
    skip = ["AV402"]
    var-files = ["env/dev.tfvars"]
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from validator.errors import UsageError

KEYS = {"profile", "fail-on", "skip", "select", "var-files", "format", "baseline"}


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    start = start.resolve()
    if start.is_file():
        start = start.parent
    stop = Path.cwd().resolve()
    for directory in [start, *start.parents]:
        own = directory / ".aurora-validate.toml"
        if own.is_file():
            return own, _read(own).get("tool", {}).get("aurora-validate", _read(own))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            section = _read(pyproject).get("tool", {}).get("aurora-validate")
            if section is not None:
                return pyproject, section
        if directory == stop or stop not in directory.parents:
            break
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc}") from None


def apply_config(args: argparse.Namespace) -> None:
    """Fill options the command line left unset from the configuration file."""
    paths = list(getattr(args, "paths", []) or [])
    found = find_config(Path(paths[0]) if paths else Path.cwd())
    args.config_file = None
    if found is None:
        return
    path, section = found
    unknown = set(section) - KEYS
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [tool.aurora-validate]: {', '.join(sorted(unknown))}")
    args.config_file = str(path)
    base = path.parent
    if args.profile is None and "profile" in section:
        args.profile = str(section["profile"])
    if args.fail_on is None and "fail-on" in section:
        args.fail_on = str(section["fail-on"])
    if args.format is None and "format" in section:
        args.format = str(section["format"])
    if args.skip is None and "skip" in section:
        args.skip = ",".join(section["skip"])
    if args.select is None and "select" in section:
        args.select = ",".join(section["select"])
    if getattr(args, "baseline", None) is None and "baseline" in section:
        args.baseline = str(base / section["baseline"])
    if hasattr(args, "var_file") and not args.var_file and "var-files" in section:
        args.var_file = [str(base / p) for p in section["var-files"]]
