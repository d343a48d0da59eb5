"""Terraform version constraints: parse them and ask which versions they admit.

Syntax (as ``required_providers`` takes it): clauses separated by commas, each an
operator (``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``~>``, none meaning ``=``)
and a version ``MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]``. ``~> 1.2.3`` admits
``>= 1.2.3, < 1.3.0``; ``~> 1.2`` admits ``>= 1.2.0, < 2.0.0``; ``~> 1`` admits
``>= 1.0.0``. A pre-release is admitted only by an exact ``=`` clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_CLAUSE = re.compile(r"^\s*(~>|>=|<=|!=|>|<|=)?\s*(\S+)\s*$")


class ConstraintError(ValueError):
    """A version constraint that does not parse."""


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int = 0
    patch: int = 0
    release: int = 1  # 0 for a pre-release, which sorts before its release
    pre: str = ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-{self.pre}" if self.pre else text

    def next_patch(self) -> Version:
        """The smallest release after this version."""
        if self.pre:
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)


def parse_semver(text: str) -> tuple[Version, int]:
    """A Terraform version (``1.11.0``, ``5.0.0-beta1``) and how many numeric parts were written (1 to 3).

    Not ``facts.parse_version``, which reads engine versions (``16.4``) as tuples.
    """
    match = _VERSION.match(text.strip())
    if not match:
        raise ConstraintError(f"{text!r} is not a version")
    major, minor, patch, pre = match.groups()
    written = 1 + (minor is not None) + (patch is not None)
    version = Version(int(major), int(minor or 0), int(patch or 0), 0 if pre else 1, pre or "")
    return version, written


@dataclass(frozen=True)
class Clause:
    op: str
    version: Version
    written: int

    def admits(self, v: Version) -> bool:
        if v.pre and not (self.op == "=" and v == self.version):
            return False if self.op != "!=" else v != self.version
        target = self.version
        if self.op == "=":
            return v == target
        if self.op == "!=":
            return v != target
        if self.op == ">":
            return v > target
        if self.op == ">=":
            return v >= target
        if self.op == "<":
            return v < target
        if self.op == "<=":
            return v <= target
        # "~>": at least the version, below the next increment of the second-to-last written part.
        upper = self._pessimistic_upper()
        return v >= target and (upper is None or v < upper)

    def _pessimistic_upper(self) -> Version | None:
        t = self.version
        if self.written >= 3:
            return Version(t.major, t.minor + 1, 0)
        if self.written == 2:
            return Version(t.major + 1, 0, 0)
        return None

    def lower(self) -> Version | None:
        """The smallest version this clause admits on its own, if it has a lower bound."""
        if self.op in ("=", ">=", "~>"):
            return self.version
        if self.op == ">":
            return self.version.next_patch()
        return None

    def __str__(self) -> str:
        return f"{self.op} {self.version}"


def parse_constraint(text: str) -> list[Clause]:
    """The clauses of a constraint string; ConstraintError when it does not parse."""
    if not text or not text.strip():
        raise ConstraintError("empty version constraint")
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.match(part)
        if not match:
            raise ConstraintError(f"cannot read {part.strip()!r} in {text!r}")
        op, raw = match.groups()
        version, written = parse_semver(raw)
        clauses.append(Clause(op or "=", version, written))
    return clauses


def allows(constraint: str, version: str) -> bool:
    """Whether ``version`` satisfies every clause of ``constraint``."""
    v, _ = parse_semver(version)
    return all(c.admits(v) for c in parse_constraint(constraint))


def lowest_allowed(constraint: str) -> Version | None:
    """The smallest version the constraint admits; None when it admits none."""
    clauses = parse_constraint(constraint)
    exact = [c.version for c in clauses if c.op == "="]
    if exact:
        candidate = exact[0]
        return candidate if all(c.admits(candidate) for c in clauses) else None
    lowers = [c.lower() for c in clauses]
    candidate = max((v for v in lowers if v is not None), default=Version(0, 0, 0))
    if candidate.pre:
        candidate = candidate.next_patch()
    # Only "!=" clauses can reject the candidate without rejecting every larger one.
    for _ in range(len(clauses) + 1):
        if all(c.admits(candidate) for c in clauses):
            return candidate
        candidate = candidate.next_patch()
    return None


def admits_below(constraint: str, version: str) -> bool:
    """Whether the constraint admits some version older than ``version``."""
    lowest = lowest_allowed(constraint)
    if lowest is None:
        return False
    target, _ = parse_semver(version)
    return lowest < target
