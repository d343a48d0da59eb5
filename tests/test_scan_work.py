"""What a root's scan does once: list and resolve each directory, evaluate what its tracer reads back.

These pin down the shortcuts that keep a monorepo scan cheap per root, and that each gives what the
longer way gave (the file errors, the paths, the provenance).
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from validator import limits
from validator.sources.terraform import roots
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.evaluate import Evaluator
from validator.sources.terraform.hcl.module import ParsedFiles, tf_files_in
from validator.sources.terraform.hcl.provenance import Tracer

CLUSTER = 'resource "aws_rds_cluster" "c" {\n  engine = "aurora-postgresql"\n}\n'


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- #
# Files


def test_describe_entry_says_what_describe_non_file_says(tmp_path: Path) -> None:
    write(tmp_path / "file.tf", CLUSTER)
    (tmp_path / "dir.tf").mkdir()
    os.mkfifo(tmp_path / "fifo.tf")
    os.symlink("nowhere.tf", tmp_path / "dangling.tf")
    os.symlink("loop-b.tf", tmp_path / "loop-a.tf")
    os.symlink("loop-a.tf", tmp_path / "loop-b.tf")
    os.symlink("file.tf", tmp_path / "link.tf")
    os.symlink("dir.tf", tmp_path / "linkdir.tf")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock.tf"))
        with os.scandir(tmp_path) as it:
            entries = list(it)
        got = {e.name: limits.describe_entry(e) for e in entries}
        assert got == {e.name: limits.describe_non_file(tmp_path / e.name) for e in entries}
    finally:
        sock.close()
    assert got["file.tf"] is None and got["link.tf"] is None
    assert got["dir.tf"] == got["linkdir.tf"] == "a directory"
    assert got["fifo.tf"] == "a FIFO (named pipe)"
    assert got["dangling.tf"] == "a dangling symbolic link"
    assert got["loop-a.tf"] == "a symbolic link loop"
    assert got["sock.tf"] == "a socket"


def test_module_files_and_tf_files_agree_with_a_glob(tmp_path: Path) -> None:
    write(tmp_path / "b.tf", CLUSTER)
    write(tmp_path / "a.tf", "")
    write(tmp_path / ".hidden.tf", "")  # Path.glob("*.tf") finds it: so does terraform
    (tmp_path / "dir.tf").mkdir()
    os.mkfifo(tmp_path / "fifo.tf")
    write(tmp_path / "notes.txt", "")
    files = ParsedFiles(tmp_path)
    assert files.tf_files(tmp_path) == tf_files_in(tmp_path)
    assert [pf.rel for pf in files.module_files(tmp_path)] == [".hidden.tf", "a.tf", "b.tf"]
    assert sorted(str(e) for e in files.errors) == [
        "dir.tf: error: is a directory, not a Terraform file",
        "fifo.tf: error: is a FIFO (named pipe), not a Terraform file",
    ]


def test_a_directory_is_listed_once_per_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "main.tf", CLUSTER + 'module "m" {\n  source   = "./mod"\n  for_each = toset(["a", "b"])\n}\n')
    write(tmp_path / "terraform.tfvars", "")
    write(tmp_path / "mod" / "main.tf", 'variable "x" {\n  default = 1\n}\n')
    listed: Counter[str] = Counter()
    real_scandir = os.scandir

    def counting(path: Any = ".") -> Any:
        listed[os.path.realpath(path)] += 1
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    loaded = load_root(tmp_path)
    assert loaded.errors == []
    assert [m.prefix for m in loaded.root_module.walk()] == ["", 'module.m["a"].', 'module.m["b"].']  # type: ignore[union-attr]
    assert listed == {str(tmp_path.resolve()): 1, str((tmp_path / "mod").resolve()): 1}


def test_files_are_named_from_the_resolved_root_and_links_by_their_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real / "main.tf", CLUSTER)
    write(tmp_path / "shared" / "common.tf", "")
    os.symlink("../shared/common.tf", real / "common.tf")
    os.symlink("real", tmp_path / "alias")
    files = ParsedFiles(tmp_path / "alias")
    assert [pf.rel for pf in files.module_files(tmp_path / "alias")] == ["../shared/common.tf", "main.tf"]


# --------------------------------------------------------------------------- #
# Roots


def test_discovered_roots_are_resolved_and_symlinked_directories_not_entered(tmp_path: Path) -> None:
    write(tmp_path / "real" / "envs" / "dev" / "main.tf", 'module "db" {\n  source = "../../modules/db"\n}\n')
    write(tmp_path / "real" / "modules" / "db" / "main.tf", CLUSTER)
    write(tmp_path / "elsewhere" / "main.tf", CLUSTER)
    os.symlink(tmp_path / "elsewhere", tmp_path / "real" / "linked")
    os.symlink("real", tmp_path / "alias")
    found = roots.discover_roots(tmp_path / "alias")
    assert found == [(tmp_path / "real" / "envs" / "dev").resolve()]
    assert found == [p.resolve() for p in found]


def test_exclude_without_patterns_matches_nothing_and_resolves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, strict: bool = False) -> Path:
        raise AssertionError("resolved")

    excluded = roots.Exclude((), tmp_path)
    monkeypatch.setattr(Path, "resolve", refuse)
    assert not excluded.matches(tmp_path / "anything")


def test_exclude_resolves_its_base_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()
    real_resolve = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        calls[str(self)] += 1
        return real_resolve(self, strict)

    excluded = roots.Exclude(("legacy",), tmp_path)
    monkeypatch.setattr(Path, "resolve", counting)
    assert excluded.matches(tmp_path / "legacy") and not excluded.matches(tmp_path / "live")
    assert calls[str(tmp_path)] == 1


# --------------------------------------------------------------------------- #
# Tracing


class CountingScope:
    """Names with fixed values, counting how often each is read."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.reads: Counter[str] = Counter()

    def lookup(self, name: str, line: int) -> Any:
        self.reads[name] += 1
        return self.values[name]


def expression(text: str) -> s.Expr:
    return s.parse_text(f"v = {text}\n", Path("f.tf"), "f.tf").body.attributes["v"].expr


def traced(text: str, memo: bool) -> tuple[Any, Any, Counter[str]]:
    """(value, provenance, reads) the way module.trace does it, with or without its memo."""
    scope = CountingScope({"var.c": True, "var.x": "x", "var.l": ["a", "b"], "var.m": {"k": "v"}})
    with limits.scan():
        ev = Evaluator(scope)
        e = expression(text)
        ev.memo = {} if memo else None
        value = ev.eval(e)
        prov = Tracer(ev, "f.tf").prov(e)
    return value, prov, scope.reads


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ('jsonencode({a = var.x, b = [var.x, "y"]})', {"var.x": 2}),
        ('var.c ? var.x : "z"', {"var.c": 1, "var.x": 1}),
        ("var.m[var.x == \"x\" ? \"k\" : \"j\"]", {"var.m": 1, "var.x": 1}),
        ("{ (var.x) = 1 }", {"var.x": 1}),
        ("[for s in var.l : upper(s) if var.c]", {"var.l": 1, "var.c": 4}),  # each element's scope is its own
        ('try(var.m["nope"], var.x)', {"var.m": 2, "var.x": 1}),  # what failed is tried again
        ("jsondecode(jsonencode(var.m))", {"var.m": 1}),
    ],
)
def test_the_tracer_reads_back_what_the_evaluation_found(text: str, reads: dict[str, int]) -> None:
    value, prov, counted = traced(text, memo=True)
    old_value, old_prov, old_counted = traced(text, memo=False)
    assert (value, prov) == (old_value, old_prov)  # the same answer as evaluating again
    assert dict(counted) == reads
    assert sum(counted.values()) < sum(old_counted.values())


@pytest.mark.parametrize(
    "text",
    ['coalesce(var.x, "d")', "element(var.l, 1)", "lookup(var.m, \"k\", var.x)", "merge(var.m, {a = var.x})",
     "concat(var.l, [var.x])", 'format("%s-%s", var.x, var.x)', "var.l[*]", "one([var.x])"],
)
def test_what_is_matched_by_identity_is_evaluated_again(text: str) -> None:
    value, prov, _ = traced(text, memo=True)
    assert (value, prov) == traced(text, memo=False)[:2]


@pytest.mark.parametrize(
    "rel",
    ["./modules/db", "./modules/db/", "./modules//db/.", "../sibling", "../../x/y", "./missing/../modules",
     "./file.tf/below", "./link/db", "./link/../modules", "./loop/x", "./loop", "./dangling", "..", "./" + "n" * 300,
     "./bad\x00name", "./modules/db/../../" * 3],
)
def test_resolve_below_is_path_resolve(tmp_path: Path, rel: str) -> None:
    base = tmp_path / "a" / "b"
    (base / "modules" / "db").mkdir(parents=True)
    (tmp_path / "a" / "sibling").mkdir()
    write(base / "file.tf", "")
    os.symlink(base / "modules", base / "link")
    os.symlink("loop", base / "loop")
    os.symlink("nowhere", base / "dangling")

    def outcome(resolve: Any) -> Any:
        try:
            return resolve()
        except Exception as exc:  # the kind of failure is what is compared
            return type(exc)

    assert outcome(lambda: limits.resolve_below(base, rel)) == outcome(lambda: (base / rel).resolve())


def test_a_small_file_is_read_without_reserving_the_limit(tmp_path: Path) -> None:
    """limits.read_bytes reads what the file holds: reserving MAX_FILE_BYTES for each read cost 70 µs a file."""
    import tracemalloc

    small = tmp_path / "small.tf"
    small.write_bytes(b'locals {\n  a = 1\n}\n')
    tracemalloc.start()
    try:
        data = limits.read_bytes(small, "small.tf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == b'locals {\n  a = 1\n}\n'
    assert peak < 64 * 1024, peak
