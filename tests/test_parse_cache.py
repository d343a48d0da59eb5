"""The parse cache: trees reused by content, never trusted when damaged, safe under concurrent runs."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator.cli import main
from validator.errors import InputError
from validator.sources.terraform.hcl import cache as cache_mod
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.cache import MAGIC, ParseCache, default_directory

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    root = tmp_path / "ref"
    shutil.copytree(REFERENCE, root)
    return root


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files python-hcl2 is asked to parse (the cache calls syntax.parse_file on a miss)."""
    seen: list[str] = []
    real = s.parse_file

    def counting(path: Path, rel: str) -> s.ParsedFile:
        seen.append(rel)
        return real(path, rel)

    monkeypatch.setattr(s, "parse_file", counting)
    return seen


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--format", "json", "--jobs", "1"])
    out, err = capsys.readouterr()
    return code, out, err


def entries(cache_home: Path) -> list[Path]:
    return sorted(p for p in (cache_home / "aurora-validate" / "trees").rglob("*") if p.is_file())


def test_a_warm_run_parses_nothing_and_reports_the_same(
    reference: Path, isolated_cache: Path, parses: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(isolated_cache / "aurora-validate", ignore_errors=True)
    cold = scan(capsys, str(reference))
    assert sorted(parses) == ["main.tf", "modules/aurora/aurora.tf", "modules/network/network.tf", "variables.tf"]
    assert len(entries(isolated_cache)) == 4
    parses.clear()
    warm = scan(capsys, str(reference))
    assert parses == []
    assert warm == cold


def test_only_the_changed_file_is_parsed_again(
    reference: Path, parses: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    scan(capsys, str(reference))
    parses.clear()
    changed = reference / "modules" / "aurora" / "aurora.tf"
    changed.write_text(changed.read_text().replace("engine_mode", "engine_mode    ", 1))
    scan(capsys, str(reference))
    assert parses == ["modules/aurora/aurora.tf"]


def test_no_cache_flag_and_environment_parse_every_file(
    reference: Path, parses: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = scan(capsys, str(reference))
    parses.clear()
    assert scan(capsys, str(reference), "--no-cache") == first
    assert len(parses) == 4
    parses.clear()
    monkeypatch.setenv("AURORA_VALIDATE_NO_CACHE", "1")
    assert scan(capsys, str(reference)) == first
    assert len(parses) == 4


def test_cache_dir_option(reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere"
    scan(capsys, str(reference), "--cache-dir", str(target))
    assert len(list((target / "trees").rglob("*.*"))) == 0  # no temporary file left behind
    assert len([p for p in (target / "trees").rglob("*") if p.is_file()]) == 4
    assert (target / "key").stat().st_mode & 0o077 == 0


def damage_variants(blob: bytes, foreign: bytes) -> dict[str, bytes]:
    head = len(MAGIC) + 32
    flipped = bytearray(blob)
    flipped[head + len(blob[head:]) // 2] ^= 0x01
    return {
        "empty": b"",
        "truncated": blob[: len(blob) // 2],
        "header only": blob[:head],
        "flipped payload byte": bytes(flipped),
        "wrong magic": b"AVTREE0\n" + blob[len(MAGIC):],
        "garbage": os.urandom(len(blob)),
        "foreign (another cache's key)": foreign,
    }


@pytest.mark.parametrize(
    "variant",
    ["empty", "truncated", "header only", "flipped payload byte", "wrong magic", "garbage",
     "foreign (another cache's key)"],
)
def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(variant: str, tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_rds_cluster" "c" {\n  engine = "aurora-postgresql"\n}\n')
    ours, other = tmp_path / "ours", tmp_path / "other"
    expected = ParseCache(ours).parse(tf, "main.tf")
    ParseCache(other).parse(tf, "main.tf")
    [entry] = [p for p in (ours / "trees").rglob("*") if p.is_file()]
    [foreign] = [p for p in (other / "trees").rglob("*") if p.is_file()]
    assert entry.name == foreign.name  # same bytes, same salt: only the keys differ
    entry.write_bytes(damage_variants(entry.read_bytes(), foreign.read_bytes())[variant])

    cache = ParseCache(ours)
    got = cache.parse(tf, "main.tf")
    assert (cache.rejected, cache.parsed, cache.disk_hits) == (1, 1, 0)
    assert got.body == expected.body
    again = ParseCache(ours)
    assert again.parse(tf, "main.tf").body == expected.body
    assert (again.rejected, again.parsed, again.disk_hits) == (0, 0, 1)  # rewritten, and good


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, ("open(__import__('os').environ['MARKER'], 'w').close()",))


def test_an_entry_that_would_run_code_is_never_unpickled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('variable "x" {}\n')
    directory = tmp_path / "cache"
    ParseCache(directory).parse(tf, "main.tf")
    [entry] = [p for p in (directory / "trees").rglob("*") if p.is_file()]
    marker = tmp_path / "ran"
    monkeypatch.setenv("MARKER", str(marker))
    evil = pickle.dumps(_Payload())
    entry.write_bytes(MAGIC + os.urandom(32) + evil)  # an attacker without the key cannot make the MAC
    cache = ParseCache(directory)
    assert cache.parse(tf, "main.tf").body.blocks[0].labels == ("x",)
    assert cache.rejected == 1
    assert not marker.exists()


def test_a_bad_key_file_is_replaced_and_voids_the_entries(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('variable "x" {}\n')
    directory = tmp_path / "cache"
    ParseCache(directory).parse(tf, "main.tf")
    (directory / "key").write_bytes(b"short")
    cache = ParseCache(directory)
    cache.parse(tf, "main.tf")
    assert (cache.rejected, cache.parsed) == (1, 1)
    assert len((directory / "key").read_bytes()) == 32


def test_entries_depend_on_the_tree_builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('variable "x" {}\n')
    ParseCache(tmp_path / "c").parse(tf, "main.tf")
    monkeypatch.setattr(cache_mod, "_salt", lambda: b"another version of syntax.py".ljust(32))
    other = ParseCache(tmp_path / "c")
    other.parse(tf, "main.tf")
    assert (other.parsed, other.disk_hits) == (1, 0)


def test_same_bytes_under_another_path_name_their_own_file(tmp_path: Path) -> None:
    text = 'resource "aws_rds_cluster" "c" {\n  engine = "aurora-postgresql"\n  scaling {\n  }\n}\n'
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(text)
    cache = ParseCache(tmp_path / "cache")
    first = cache.parse(tmp_path / "a" / "main.tf", "a/main.tf")
    second = cache.parse(tmp_path / "b" / "main.tf", "../b/main.tf")
    assert cache.parsed == 1 and cache.memory_hits == 1
    assert first.body.blocks[0].file == "a/main.tf"
    assert first.body.blocks[0].body.blocks[0].file == "a/main.tf"
    assert second.body.blocks[0].file == "../b/main.tf"
    assert second.body.blocks[0].body.blocks[0].file == "../b/main.tf"
    assert second.path == tmp_path / "b" / "main.tf"
    fresh = ParseCache(tmp_path / "cache").parse(tmp_path / "b" / "main.tf", "b/main.tf")  # from disk
    assert fresh.body.blocks[0].body.blocks[0].file == "b/main.tf"


def test_a_file_that_does_not_parse_is_cached_with_its_error(tmp_path: Path, parses: list[str]) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bad.tf").write_text('resource "x" "y" {\n  a = = 1\n}\n')
    cache = ParseCache(tmp_path / "cache")
    with pytest.raises(InputError) as first:
        cache.parse(tmp_path / "a" / "bad.tf", "a/bad.tf")
    with pytest.raises(InputError) as second:
        ParseCache(tmp_path / "cache").parse(tmp_path / "b" / "bad.tf", "b/bad.tf")
    assert parses == ["a/bad.tf"]
    assert str(first.value).startswith("a/bad.tf:2: parse error")
    assert str(second.value) == str(first.value).replace("a/bad.tf", "b/bad.tf", 1)


def test_suppressions_come_back_from_the_cache(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('# aurora-validate:ignore=AV301 dev only\nresource "aws_security_group" "g" {}\n')
    ParseCache(tmp_path / "c").parse(tf, "main.tf")
    cached = ParseCache(tmp_path / "c")
    assert cached.parse(tf, "main.tf").suppressions == {1: [("AV301", "dev only")]}
    assert cached.disk_hits == 1


def test_an_unusable_cache_directory_only_costs_the_cache(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    expected = scan(capsys, str(reference), "--no-cache")
    assert scan(capsys, str(reference), "--cache-dir", str(blocker / "cache")) == expected


def test_default_directory_follows_xdg() -> None:
    assert default_directory({"XDG_CACHE_HOME": "/x/cache"}) == Path("/x/cache/aurora-validate")
    # A relative XDG_CACHE_HOME is invalid by the specification and ignored.
    assert default_directory({"XDG_CACHE_HOME": "rel"}) == Path.home() / ".cache" / "aurora-validate"
    assert default_directory({}) == Path.home() / ".cache" / "aurora-validate"
    assert default_directory({"AURORA_VALIDATE_CACHE_DIR": "/y", "XDG_CACHE_HOME": "/x"}) == Path("/y")


def test_a_module_shared_by_roots_is_parsed_once_per_run(
    tmp_path: Path, parses: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REFERENCE / "modules", tmp_path / "modules")
    roots = []
    for n in range(3):
        root = tmp_path / "envs" / f"env{n}"
        root.mkdir(parents=True)
        text = (REFERENCE / "main.tf").read_text().replace('"./modules/', '"../../modules/')
        (root / "main.tf").write_text(text)
        shutil.copy(REFERENCE / "variables.tf", root / "variables.tf")
        roots.append(str(root))
    code, out, err = scan(capsys, *roots, "--no-cache")
    assert code == 0 and "error" not in err
    assert json.loads(out)["roots"] == roots
    # The roots' own files are identical too: four distinct files in all, for three roots.
    assert sorted(parses) == ["../../modules/aurora/aurora.tf", "../../modules/network/network.tf", "main.tf",
                              "variables.tf"]


CONCURRENT = """
import sys
from validator.cli import main
sys.exit(main([sys.argv[1], "--format", "json", "--jobs", "1", "--output", sys.argv[2]]))
"""


def test_concurrent_runs_share_one_directory_safely(reference: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "shared")}
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(reference), str(tmp_path / f"out{n}.json")], env=env)
        for n in range(4)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * 4
    outputs = {(tmp_path / f"out{n}.json").read_text() for n in range(4)}
    assert len(outputs) == 1
    directory = tmp_path / "shared" / "aurora-validate"
    assert sorted(p.name for p in directory.iterdir()) == ["key", "trees"]  # no temporary key left
    files = [p for p in (directory / "trees").rglob("*") if p.is_file()]
    assert len(files) == 4 and not [p for p in files if p.name.endswith(".tmp")]
    check = ParseCache(directory)
    for tf in sorted(reference.rglob("*.tf")):
        check.parse(tf, tf.relative_to(reference).as_posix())
    assert (check.rejected, check.parsed, check.disk_hits) == (0, 0, 4)


def test_a_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('variable "x" {}\n')
    directory = tmp_path / "cache"
    ParseCache(directory).parse(tf, "main.tf")
    directory.chmod(0o777)  # anyone could plant an entry and a key: trust neither
    cache = ParseCache(directory)
    assert cache.parse(tf, "main.tf").body.blocks[0].labels == ("x",)
    assert (cache.disk_hits, cache.parsed) == (0, 1)
    directory.chmod(0o700)
    (directory / "key").chmod(0o644)  # a key others can read: replaced, so the old entries are void
    again = ParseCache(directory)
    again.parse(tf, "main.tf")
    assert (again.disk_hits, again.rejected, again.parsed) == (0, 1, 1)
    assert (directory / "key").stat().st_mode & 0o077 == 0
    last = ParseCache(directory)
    last.parse(tf, "main.tf")
    assert (last.disk_hits, last.rejected, last.parsed) == (1, 0, 0)


def test_the_parser_loads_without_the_hcl2_package_and_reads_as_hcl2_does(tmp_path: Path) -> None:
    """A cold scan loads python-hcl2's parser module alone (no transformer, reconstructor or ``regex``),
    and that parser gives the trees ``hcl2.parser.parser()`` gives."""
    probe = (
        "import sys, json, pathlib\n"
        "from validator.sources.terraform.hcl import syntax\n"
        "files = sorted(pathlib.Path('reference').rglob('*.tf'))\n"
        "ours = [syntax._parser().parse(syntax.normalise(f.read_text())[0]) for f in files]\n"
        "loaded = sorted(m for m in ('hcl2', 'hcl2.api', 'hcl2.reconstructor', 'regex') if m in sys.modules)\n"
        "from hcl2.parser import parser\n"
        "theirs = [parser().parse(syntax.normalise(f.read_text())[0]) for f in files]\n"
        "print(json.dumps({'loaded': loaded, 'files': len(files), 'same': ours == theirs}))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"loaded": [], "files": result["files"], "same": True} and result["files"] >= 8
