"""Project configuration: ``[tool.aurora-validate]`` in pyproject.toml or ``.aurora-validate.toml``.

Looked up beside the first path given (and its parents up to the current
directory). Command-line options win over the file.

    [tool.aurora-validate]
    profile = "bedrock-kb"
    fail-on = "warning"
    fail-on-unresolved = true
    skip = ["AV402"]
    var-files = ["env/dev.tfvars"]
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from validator.errors import UsageError
from validator.reporters import FORMATS
from validator.rules.base import Severity

KEYS = {"profile", "fail-on", "fail-on-unresolved", "skip", "select", "var-files", "format", "baseline"}


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    start = start.resolve()
    if start.is_file():
        start = start.parent
    stop = Path.cwd().resolve()
    for directory in [start, *start.parents]:
        own = directory / ".aurora-validate.toml"
        if own.is_file():
            doc = _read(own)
            tool = _table(own, doc, "tool", "[tool]")
            return own, _table(own, tool, "aurora-validate", "[tool.aurora-validate]") if "aurora-validate" in tool \
                else doc
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            tool = _table(pyproject, _read(pyproject), "tool", "[tool]")
            if "aurora-validate" in tool:
                return pyproject, _table(pyproject, tool, "aurora-validate", "[tool.aurora-validate]")
        if directory == stop or stop not in directory.parents:
            break
    return None


def _table(path: Path, doc: dict[str, Any], key: str, shown: str) -> dict[str, Any]:
    """``doc[key]`` when it is a table (an empty one when absent); else a usage error naming the file."""
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {shown} must be a table, not {type(value).__name__}")
    return value


def _read(path: Path) -> dict[str, Any]:
    from validator import limits
    from validator.errors import InputError

    try:
        return tomllib.loads(limits.read_bytes(path, str(path)).decode("utf-8"))
    except InputError as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc.message}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: cannot read configuration: nested too deeply") from None


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
        args.profile = _text(path, section, "profile")
    if args.fail_on is None and "fail-on" in section:
        args.fail_on = _text(path, section, "fail-on", tuple(s.value for s in Severity))
    if getattr(args, "fail_on_unresolved", False) is None and "fail-on-unresolved" in section:
        value = section["fail-on-unresolved"]
        if not isinstance(value, bool):
            raise UsageError(f"{path}: fail-on-unresolved must be true or false, not {value!r}")
        args.fail_on_unresolved = value
    if args.format is None and "format" in section:
        args.format = _text(path, section, "format", tuple(FORMATS))
    if args.skip is None and "skip" in section:
        args.skip = ",".join(check_rule_ids(_texts(path, section, "skip"), f"{path}: skip"))
    if args.select is None and "select" in section:
        args.select = ",".join(check_rule_ids(_texts(path, section, "select"), f"{path}: select"))
    if getattr(args, "baseline", None) is None and "baseline" in section:
        args.baseline = str(base / _text(path, section, "baseline"))
    if hasattr(args, "var_file") and not args.var_file and "var-files" in section:
        args.var_file = [str(base / p) for p in _texts(path, section, "var-files")]


def check_rule_ids(ids: list[str], where: str) -> list[str]:
    """The ids, when every one names a rule of the catalogue; else a usage error naming ``where``."""
    from validator.rules import get_rule

    unknown = [i for i in ids if get_rule(i) is None]
    if unknown:
        raise UsageError(f"{where}: unknown rule id(s): {', '.join(unknown)} (see: aurora-validate rules)")
    return ids


def _text(path: Path, section: dict[str, Any], key: str, choices: tuple[str, ...] = ()) -> str:
    value = section[key]
    if not isinstance(value, str) or (choices and value not in choices):
        expected = f"one of {', '.join(choices)}" if choices else "a string"
        raise UsageError(f"{path}: {key} must be {expected}, not {_shown(value)}")
    return value


def _texts(path: Path, section: dict[str, Any], key: str) -> list[str]:
    value = section[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{path}: {key} must be a list of strings, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    from validator.redact import excerpt

    return excerpt(repr(value), 60)
