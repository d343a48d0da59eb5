"""Root modules found below a directory (monorepos), as Terraform users mean them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.cli import main
from validator.sources.terraform.roots import Exclude, discover_roots

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
HARDENED = REPO / "reference" / "terraform-bedrock"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out), err


@pytest.fixture()
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """infra/ holding three environments, shared modules, a module with examples, and tool directories."""
    monkeypatch.chdir(tmp_path)
    infra = tmp_path / "infra"
    shutil.copytree(REFERENCE, infra / "envs" / "dev")
    shutil.copytree(HARDENED, infra / "envs" / "prod")
    shutil.copytree(ARTICLE, infra / "legacy" / "article")
    # A shared module two environments call, and the module it calls in turn.
    write(infra / "modules" / "tags" / "main.tf", 'module "naming" {\n  source = "../naming"\n}\n')
    write(infra / "modules" / "naming" / "main.tf", 'output "prefix" {\n  value = "x"\n}\n')
    write(infra / "envs" / "dev" / "tags.tf", 'module "tags" {\n  source = "../../modules/tags"\n}\n')
    write(infra / "envs" / "prod" / "tags.tf", 'module "tags" {\n  source = "../../modules/tags"\n}\n')
    # A reusable module in the registry layout: its examples call ../../ and are the roots.
    write(infra / "module-db" / "main.tf", 'variable "name" {}\n')
    write(infra / "module-db" / "examples" / "basic" / "main.tf", 'module "db" {\n  source = "../../"\n}\n')
    write(infra / "module-db" / "examples" / "full" / "main.tf", 'module "db" {\n  source = "../.."\n  name = "a"\n}\n')
    # Never scanned: modules terraform init downloaded, git internals.
    write(infra / "envs" / "dev" / ".terraform" / "modules" / "vpc" / "main.tf", 'resource "aws_vpc" "v" {}\n')
    write(infra / "legacy" / ".git" / "hooks" / "x.tf", 'resource "aws_vpc" "v" {}\n')
    (tmp_path / ".git").mkdir()  # the repository root
    return infra


EXPECTED = [
    "infra/envs/dev",
    "infra/envs/prod",
    "infra/legacy/article",
    "infra/module-db/examples/basic",
    "infra/module-db/examples/full",
]


def test_a_directory_of_root_modules_scans_each_root_once(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = scan(capsys, "infra")
    assert doc["roots"] == EXPECTED
    assert err.splitlines() == ["aurora-validate: infra: 5 root modules found"]
    assert code == 1  # the article's AV108 errors
    by_root = {r: {f["rule_id"] for f in doc["findings"] if f["root"] == r and f["status"] == "fail"} for r in EXPECTED}
    assert "AV108" in by_root["infra/legacy/article"] and "AV108" not in by_root["infra/envs/dev"]
    assert by_root["infra/envs/prod"] <= {"AV402", "AV403", "AV404"}  # the hardened variant: notes at most
    # modules are scanned through their callers: findings name the caller's root and the module's file
    av301 = [f for f in doc["findings"] if f["rule_id"] == "AV301" and f["root"] == "infra/envs/dev"]
    assert av301 and av301[0]["location"]["file"] == "modules/network/network.tf"


def test_the_text_summary_counts_the_roots(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["infra", "--quiet"])
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("in 5 root modules (profile default)")
    # grouped by root: a header per root with failures (prod and the examples have none)
    assert out.startswith("infra/envs/dev\n") and "\ninfra/legacy/article\n" in out


def test_a_single_root_scans_exactly_as_before(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = scan(capsys, "infra/envs/dev")
    assert doc["roots"] == ["infra/envs/dev"] and err == "" and code == 0
    # the module directory with .tf files of its own is itself the root, examples or not
    _, doc, err = scan(capsys, "infra/module-db")
    assert doc["roots"] == ["infra/module-db"] and err == ""


def test_excluded_globs_from_the_configuration_are_skipped(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (monorepo.parent / ".aurora-validate.toml").write_text(
        'exclude = ["infra/legacy/**", "examples"]\n', encoding="utf-8"
    )
    code, doc, err = scan(capsys, "infra")
    # with its examples excluded, nothing scanned calls module-db: it is a root of its own
    assert doc["roots"] == ["infra/envs/dev", "infra/envs/prod", "infra/module-db"]
    assert code == 0 and "3 root modules found" in err


def test_a_directory_without_terraform_below_it_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "docs" / "README.md", "nothing here\n")
    write(tmp_path / "docs" / ".terraform" / "m" / "main.tf", "")
    code = main(["docs"])
    _out, err = capsys.readouterr()
    assert code == 2 and err == "aurora-validate: docs: error: no .tf files in this directory or below it\n"


def test_modules_that_only_call_each_other_are_scanned_once(tmp_path: Path) -> None:
    write(tmp_path / "a" / "main.tf", 'module "b" {\n  source = "../b"\n}\n')
    write(tmp_path / "b" / "main.tf", 'module "a" {\n  source = "../a"\n}\n')
    write(tmp_path / "c" / "main.tf", 'module "self" {\n  source = "./"\n}\n')
    assert discover_roots(tmp_path) == [(tmp_path / "a").resolve(), (tmp_path / "c").resolve()]


def test_exclude_patterns(tmp_path: Path) -> None:
    excluded = Exclude(("legacy/**", "sandbox", "*/tmp-*"), tmp_path)
    assert excluded.matches(tmp_path / "legacy")
    assert excluded.matches(tmp_path / "legacy" / "old")
    assert excluded.matches(tmp_path / "envs" / "sandbox")
    assert excluded.matches(tmp_path / "envs" / "tmp-1")
    assert not excluded.matches(tmp_path / "envs" / "prod")
    assert not excluded.matches(tmp_path / "legacy-new")


def test_a_configuration_of_a_root_below_is_not_silently_ignored(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (monorepo / "envs" / "prod" / ".aurora-validate.toml").write_text('ruleset = "bedrock-kb"\n', encoding="utf-8")
    _code, doc, err = scan(capsys, "infra")
    assert doc["profile"] == "default"
    notes = [line for line in err.splitlines() if "note:" in line]
    assert notes == [
        "aurora-validate: note: infra/envs/prod/.aurora-validate.toml is not used when scanning the directory above "
        "infra/envs/prod; scan infra/envs/prod on its own, or pass --config"
    ]
    _code, doc, err = scan(capsys, "infra/envs/prod")
    assert doc["profile"] == "bedrock-kb" and err == ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.dictionaries(st.integers(0, 7), st.lists(st.integers(0, 7), max_size=3), min_size=1, max_size=8))
def test_discovered_roots_cover_every_module_and_none_is_called(
    tmp_path_factory: pytest.TempPathFactory, calls: dict[int, list[int]]
) -> None:
    """On generated call graphs: every module is a root or reached from one; a root is called by none
    (unless it is the entry of a cycle nobody else calls)."""
    base = tmp_path_factory.mktemp("graph")
    for node, callees in calls.items():
        body = "".join(f'module "m{c}" {{\n  source = "../d{c}"\n}}\n' for c in callees if c in calls)
        write(base / f"d{node}" / "main.tf", body or "locals {}\n")
    roots = discover_roots(base)
    dirs = {(base / f"d{n}").resolve(): {(base / f"d{c}").resolve() for c in cs if c in calls and c != n}
            for n, cs in calls.items()}  # fmt: skip
    reached: set[Path] = set()
    stack = list(roots)
    while stack:
        d = stack.pop()
        if d not in reached:
            reached.add(d)
            stack.extend(dirs[d])
    assert reached == set(dirs)
    called = set().union(*dirs.values())
    plain_roots = [r for r in roots if r not in called]
    assert set(plain_roots) == {d for d in dirs if d not in called}
    assert roots == sorted(set(roots))
