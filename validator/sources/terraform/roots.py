"""Which root modules to scan for the paths a user (or pre-commit) passes.

A directory with ``.tf`` files is scanned as a root module. A directory without
any (``infra/`` of a monorepo) holds root modules below it: every directory with
``.tf`` files that no other directory found there calls as a local module, so
``modules/*`` are scanned through their callers, once, and ``examples/*`` that
call ``../../`` are roots. A file belongs to the root modules that call its
directory, directly or through other local modules; when none does, its own
directory is the root. Each root is scanned once.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from validator import limits
from validator.errors import InputError

_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.{1,2}/[^"]*)"', re.MULTILINE)
_SKIP_DIRS = {".terraform", ".git", "node_modules", ".venv", "__pycache__"}
TERRAFORM_SUFFIXES = (".tf", ".tfvars")


def _has_tf(directory: Path) -> bool:
    return any(p.suffix == ".tf" and p.is_file() for p in directory.iterdir()) if directory.is_dir() else False


def repository_root(path: Path) -> Path:
    """The git work tree holding ``path``, else the current directory (or the path's own folder)."""
    return work_tree(path.resolve())


def work_tree(start: Path, has_git: dict[Path, bool] | None = None) -> Path:
    """:func:`repository_root` of a resolved path.

    ``has_git``: which directories hold ``.git``, shared by the lookups of one run (the roots of a
    monorepo share their parents).
    """
    known = {} if has_git is None else has_git
    for parent in [start, *start.parents]:
        if parent not in known:
            known[parent] = (parent / ".git").exists()
        if known[parent]:
            return parent
    cwd = Path.cwd().resolve()
    return cwd if cwd in start.parents or cwd == start else start


_boundary = repository_root


def _calls(directory: Path, tf_names: list[str] | None = None) -> set[Path]:
    """Local module directories that the module in ``directory`` calls.

    ``tf_names``: the names of its ``*.tf`` entries that are no directories, when a walk already
    listed them (a directory named ``x.tf`` cannot be read, so it calls nothing either way).
    """
    out: set[Path] = set()
    tfs = directory.glob("*.tf") if tf_names is None else [directory / name for name in tf_names]
    for tf in tfs:
        try:  # a FIFO or device named *.tf is refused, not opened: a read must never block
            text = limits.read_bytes(tf, str(tf)).decode("utf-8", errors="replace")
        except InputError:
            continue  # the scan of the root holding it names the problem
        if "source" not in text:  # what the pattern needs, found faster
            continue
        for source in _LOCAL_SOURCE.findall(text):
            # A directory the walk listed is resolved: only the source's own steps need reading.
            out.add((directory / source).resolve() if tf_names is None else limits.resolve_below(directory, source))
    return out


def _module_dir_files(boundary: Path, excluded: Exclude | None = None) -> dict[Path, list[str]]:
    """Directories with ``.tf`` files below ``boundary`` (resolved), in walk order, with those files' names.

    The walk enters no symbolic link, so below a resolved boundary every directory it meets
    is its own resolved path.
    """
    boundary = boundary.resolve()
    found: dict[Path, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(boundary):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIP_DIRS and not d.startswith(".") and not (excluded and excluded.matches(here / d))
        )
        tf_names = [f for f in filenames if f.endswith(".tf")]
        if tf_names:
            found[here] = tf_names
    return found


@dataclass(frozen=True)
class Exclude:
    """Directory globs from the configuration (``exclude``), relative to its directory."""

    patterns: tuple[str, ...] = ()
    base: Path = field(default_factory=Path.cwd)

    @cached_property
    def _resolved_base(self) -> Path:
        return self.base.resolve()

    def matches(self, directory: Path) -> bool:
        if not self.patterns:
            return False
        try:
            rel = directory.resolve().relative_to(self._resolved_base).as_posix()
        except ValueError:
            rel = directory.as_posix()
        for pattern in self.patterns:
            pattern = pattern.strip("/")
            for candidate in (pattern, pattern.removesuffix("/**")):
                if fnmatch.fnmatchcase(rel, candidate) or fnmatch.fnmatchcase(rel, f"**/{candidate}"):
                    return True
            if "/" not in pattern and fnmatch.fnmatchcase(directory.name, pattern):
                return True
        return False


def discover_roots(directory: Path, excluded: Exclude | None = None) -> list[Path]:
    """Root modules below a directory that has no ``.tf`` files of its own, in path order.

    A root is a directory with ``.tf`` files that no other directory found calls as a
    local module. Directories that only call each other (a cycle) are scanned once,
    from the first of them in path order.
    """
    listed = _module_dir_files(directory, excluded)
    dirs = list(listed)
    calls = {d: {c for c in _calls(d, names) if c != d} for d, names in listed.items()}
    called = set().union(*calls.values()) if calls else set()
    roots = [d for d in dirs if d not in called]
    reached = _reach(roots, calls)
    for d in dirs:  # members of a cycle of calls nobody else makes
        if d not in reached:
            roots.append(d)
            reached |= _reach([d], calls)
    return sorted(roots)


def _reach(starts: list[Path], calls: dict[Path, set[Path]]) -> set[Path]:
    seen: set[Path] = set()
    stack = list(starts)
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(calls.get(d, ()))
    return seen


def owning_roots(directory: Path) -> list[Path]:
    """Root modules whose module tree includes ``directory`` (itself when none)."""
    directory = directory.resolve()
    listed = _module_dir_files(_boundary(directory))
    dirs = list(listed)
    calls = {d: _calls(d, names) for d, names in listed.items()}
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


def resolve_roots(
    paths: list[str], excluded: Exclude | None = None, discovered: dict[str, int] | None = None
) -> tuple[list[Path], list[InputError]]:
    """Root module directories for the given paths, each once, in order.

    ``discovered`` (when given) receives, for each directory searched for root modules
    below it, how many it holds.
    """
    roots: list[Path] = []
    seen: set[Path] = set()  # resolved: each root once, in linear time for a thousand roots
    errors: list[InputError] = []
    cwd = Path.cwd().resolve()  # once, for every root shown relative to it
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(InputError(raw, "no such file or directory"))
            continue
        found_resolved = False  # discover_roots gives resolved paths
        if path.is_dir():
            if _has_tf(path):
                candidates = [path]
            else:
                candidates = discover_roots(path, excluded)
                found_resolved = True
                if not candidates:
                    errors.append(InputError(raw, "no .tf files in this directory or below it"))
                    continue
                if discovered is not None:
                    discovered[raw] = len(candidates)
        elif path.suffix in TERRAFORM_SUFFIXES or path.name.endswith(".tfvars.json"):
            candidates = owning_roots(path.parent) if _has_tf(path.parent) else []
            if not candidates:
                errors.append(InputError(raw, "no .tf files beside this file"))
                continue
        else:
            errors.append(InputError(raw, "not a Terraform file (.tf or .tfvars)"))
            continue
        for c in candidates:
            resolved = c if found_resolved else c.resolve()
            if resolved not in seen:
                seen.add(resolved)
                roots.append(_display(c, resolved, cwd))
    return roots, errors


def _display(path: Path, resolved: Path | None = None, cwd: Path | None = None) -> Path:
    """A path relative to the current directory when it lies below it."""
    try:
        if not path.is_absolute():
            return path
        return (resolved or path.resolve()).relative_to(cwd or Path.cwd().resolve())
    except ValueError:
        return path
