"""Project configuration: ``[tool.aurora-validate]`` in pyproject.toml or ``.aurora-validate.toml``.

Looked up from each scanned path up to the repository root (the directory
holding ``.git``; without one, up to the current directory), as ``.tflint.hcl``
and ``.checkov.yaml`` are; ``--config FILE`` names one explicitly. One run uses
one configuration. Command-line options win over the file.

    [tool.aurora-validate]
    ruleset = "bedrock-kb"
    fail-on = "warning"
    fail-on-unresolved = true
    skip = ["AV402"]
    var-files = ["env/dev.tfvars"]
    exclude = ["legacy/**", "**/sandbox"]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from validator import limits
from validator.errors import InputError, UsageError
from validator.profiles import PROFILES
from validator.redact import excerpt
from validator.reporters import FORMATS
from validator.rules import get_rule
from validator.rules.base import Severity

KEYS = {
    "ruleset", "fail-on", "fail-on-unresolved", "skip", "select", "var-files", "format", "baseline", "exclude",
}  # fmt: skip
# Keys that were renamed: the old spelling is an error that names the new one.
RENAMED = {"profile": "ruleset"}


Found = tuple[Path, dict[str, Any]] | None


def find_config(start: Path) -> Found:
    """The configuration nearest ``start``, looked up to the repository root."""
    return ConfigLookup().find(start)


class ConfigLookup:
    """``find_config`` for the many roots of one run: each directory is looked at once.

    The roots of a monorepo share their parents, and with them the answers: which one is the
    repository's root, and which holds a configuration.
    """

    def __init__(self) -> None:
        self._found: dict[Path, Found] = {}
        self._git: dict[Path, bool] = {}

    def find(self, start: Path) -> Found:
        from validator.sources.terraform.roots import work_tree

        start = start.resolve()
        if start.is_file():
            start = start.parent
        stop = work_tree(start, self._git)
        for directory in [start, *start.parents]:
            if directory not in self._found:
                self._found[directory] = _config_in(directory)
            found = self._found[directory]
            if found is not None:
                return found
            if directory == stop or stop not in directory.parents:
                break
        return None


def _config_in(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    own = directory / ".aurora-validate.toml"
    if own.is_file():
        return own, _section(own, _read(own))
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        data = _bytes(pyproject)
        if b"aurora-validate" not in data:  # another tool's file: not ours to parse, nor to find fault with
            return None
        tool = _table(pyproject, _parse(pyproject, data), "tool", "[tool]")
        if "aurora-validate" in tool:
            return pyproject, _table(pyproject, tool, "aurora-validate", "[tool.aurora-validate]")
    return None


def _section(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """A ``.aurora-validate.toml``: its ``[tool.aurora-validate]`` table when it has one, else the whole file."""
    tool = _table(path, doc, "tool", "[tool]")
    if "aurora-validate" in tool:
        return _table(path, tool, "aurora-validate", "[tool.aurora-validate]")
    return doc


def config_for(args: argparse.Namespace) -> tuple[Path, dict[str, Any]] | None:
    """``--config FILE``, else the one configuration the scanned paths share (an error when they differ)."""
    explicit = getattr(args, "config", None)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--config {explicit}: no such file")
        doc = _read(path)
        if path.name == "pyproject.toml":
            tool = _table(path, doc, "tool", "[tool]")
            if "aurora-validate" not in tool:
                raise UsageError(f"--config {explicit}: no [tool.aurora-validate] table")
            return path, _table(path, tool, "aurora-validate", "[tool.aurora-validate]")
        return path, _section(path, doc)
    paths = [Path(p) for p in (getattr(args, "paths", None) or []) if Path(p).exists()] or [Path.cwd()]
    found: dict[Path, tuple[Path, dict[str, Any]] | None] = {}
    for path in paths:
        hit = find_config(path)
        key = hit[0].resolve() if hit else None
        found.setdefault(key, hit)  # type: ignore[arg-type]
    if len(found) > 1:
        names = ", ".join(str(k) if k else "none" for k in found)
        raise UsageError(
            f"the paths have different configuration files ({names}); scan them separately or pass --config FILE"
        )
    return next(iter(found.values()))


def _table(path: Path, doc: dict[str, Any], key: str, shown: str) -> dict[str, Any]:
    """``doc[key]`` when it is a table (an empty one when absent); else a usage error naming the file."""
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {shown} must be a table, not {type(value).__name__}")
    return value


def _read(path: Path) -> dict[str, Any]:
    return _parse(path, _bytes(path))


def _bytes(path: Path) -> bytes:
    try:
        return limits.read_bytes(path, str(path))
    except InputError as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc.message}") from None


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    import tomllib  # only when there is a configuration file to read

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: cannot read configuration: nested too deeply") from None


def apply_config(args: argparse.Namespace) -> None:
    """Fill options the command line left unset from the configuration file."""
    found = config_for(args)
    args.config_file = None
    args.exclude = []
    if found is None:
        return
    path, section = found
    for old, new in RENAMED.items():
        if old in section:
            value = section[old]
            hint = f"write {new} = {value!r}" if value in PROFILES else f"{new} is one of {', '.join(PROFILES)}"
            raise UsageError(f"{path}: {old} is now {new} ({hint}); --profile names an AWS profile")
    unknown = set(section) - KEYS
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [tool.aurora-validate]: {', '.join(sorted(unknown))}")
    args.config_file = str(path)
    base = path.parent
    if getattr(args, "ruleset", None) is None and "ruleset" in section:
        args.ruleset = _text(path, section, "ruleset", PROFILES)
    if "exclude" in section:
        args.exclude = _texts(path, section, "exclude")
        args.exclude_base = str(base)
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
    return excerpt(repr(value), 60)
