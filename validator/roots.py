"""Which root modules to scan for the paths a user (or pre-commit) passes.

A directory is scanned as a root module. A file belongs to the root modules
that call its directory, directly or through other local modules; when none
does, its own directory is the root. Each root is scanned once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from validator.errors import InputError

_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.{1,2}/[^"]*)"', re.MULTILINE)
_SKIP_DIRS = {".terraform", ".git", "node_modules", ".venv", "__pycache__"}
TERRAFORM_SUFFIXES = (".tf", ".tfvars")


def _has_tf(directory: Path) -> bool:
    return any(p.suffix == ".tf" and p.is_file() for p in directory.iterdir()) if directory.is_dir() else False


def _boundary(path: Path) -> Path:
    """The git work tree holding ``path``, else the current directory (or the path's own folder)."""
    start = path.resolve()
    for parent in [start, *start.parents]:
        if (parent / ".git").exists():
            return parent
    cwd = Path.cwd().resolve()
    return cwd if cwd in start.parents or cwd == start else start


def _calls(directory: Path) -> set[Path]:
    """Local module directories that the module in ``directory`` calls."""
    out: set[Path] = set()
    for tf in directory.glob("*.tf"):
        try:
            text = tf.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for source in _LOCAL_SOURCE.findall(text):
            out.add((directory / source).resolve())
    return out


def _module_dirs(boundary: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(boundary):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        if any(f.endswith(".tf") for f in filenames):
            found.append(Path(dirpath).resolve())
    return found


def owning_roots(directory: Path) -> list[Path]:
    """Root modules whose module tree includes ``directory`` (itself when none)."""
    directory = directory.resolve()
    dirs = _module_dirs(_boundary(directory))
    calls = {d: _calls(d) for d in dirs}
    called = set().union(*calls.values()) if calls else set()
    roots = [d for d in dirs if d not in called]
    owners = []
    for root in roots:
        seen: set[Path] = set()
        stack = [root]
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            stack.extend(calls.get(d) or _calls(d))
        if directory in seen:
            owners.append(root)
    return owners or [directory]


def resolve_roots(paths: list[str]) -> tuple[list[Path], list[InputError]]:
    """Root module directories for the given paths, each once, in order."""
    roots: list[Path] = []
    seen: set[Path] = set()  # resolved: each root once, in linear time for a thousand roots
    errors: list[InputError] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(InputError(raw, "no such file or directory"))
            continue
        if path.is_dir():
            if not _has_tf(path):
                errors.append(InputError(raw, "no .tf files in this directory"))
                continue
            candidates = [path]
        elif path.suffix in TERRAFORM_SUFFIXES or path.name.endswith(".tfvars.json"):
            candidates = owning_roots(path.parent) if _has_tf(path.parent) else []
            if not candidates:
                errors.append(InputError(raw, "no .tf files beside this file"))
                continue
        else:
            errors.append(InputError(raw, "not a Terraform file (.tf or .tfvars)"))
            continue
        for c in candidates:
            resolved = c.resolve()
            if resolved not in seen:
                seen.add(resolved)
                roots.append(_display(c))
    return roots, errors


def _display(path: Path) -> Path:
    """A path relative to the current directory when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()) if path.is_absolute() else path
    except ValueError:
        return path
